import { implementedServices, type AppDef } from 'carotene/model';
import type { EventDef } from 'carotene/model';
import type { AppService, PublicRoute, Table } from 'carotene/model';

/** An event as the build sees it. */
export type DeclaredEvent = EventDef;

/** One declared dependency: `from` lists `to`'s contract in its integrations. */
export interface CallEdge {
  readonly from: string;
  readonly to: string;
}

/** Events a service publishes and subscribes to (empty lists for a service that declares none). */
export function eventsOf(service: AppService): { publishes: readonly DeclaredEvent[]; subscribes: readonly DeclaredEvent[] } {
  // a service object made by hand (plain JavaScript) may leave them out
  return { publishes: service.publishes ?? [], subscribes: service.subscribes ?? [] };
}

/** The tables a service owns (none for an external one: its storage is its own business). */
export function storesOf(service: AppService): readonly Table[] {
  return service.kind === 'service' ? service.stores : [];
}

/** How the graph, the dashboard and `carrot status` label a service: `external · gRPC` for an external one. */
export function kindLabel(service: AppService): string | undefined {
  return service.kind === 'external' ? EXTERNAL_LABEL : undefined;
}

/** The language-neutral label of an external service. */
export const EXTERNAL_LABEL = 'external · gRPC';

/** Every declared service-to-service dependency, sorted. */
export function callEdges(app: AppDef): CallEdge[] {
  const edges = app.services.flatMap((s) => s.integrations.map((c) => ({ from: s.name, to: c.name })));
  return edges.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
}

/** One declared outside HTTP API: `from` lists `http(name, { baseUrl })` in its integrations. */
export interface HttpEdge {
  readonly from: string;
  readonly name: string;
  /** `host[:port]` of the declared base URL. */
  readonly host: string;
}

/** Every declared outside HTTP API, by service then name. */
export function httpEdges(app: AppDef): HttpEdge[] {
  // a service object made by hand may leave http out
  const edges = implementedServices(app).flatMap((s) => (s.http ?? []).map((h) => ({ from: s.name, name: h.name, host: new URL(h.baseUrl).host })));
  return edges.sort((a, b) => a.from.localeCompare(b.from) || a.name.localeCompare(b.name));
}

/** The services that declared a dependency on `service`, sorted. */
export function callersOf(app: AppDef, service: string): string[] {
  return [
    ...new Set(
      callEdges(app)
        .filter((e) => e.to === service)
        .map((e) => e.from),
    ),
  ].sort();
}

/**
 * Every identity that may call `service`, sorted: the services that list it in their
 * integrations, and the gateway when it serves its routes or reads its token keys. What an
 * external service is told to admit (`CAROTENE_ALLOWED_CALLERS`).
 */
export function declaredCallers(app: AppDef, service: AppService): string[] {
  return [...callersOf(app, service.name), ...(gatewayReaches(app, service) ? ['gateway'] : [])].sort();
}

/** Every public route of the app, sorted by path then method. */
export function publicRoutes(app: AppDef): PublicRoute[] {
  return app.services.flatMap((s) => s.routes).sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

/** True when the gateway must reach `service`: it serves a public route or the gateway's keys. */
export function gatewayReaches(app: AppDef, service: AppService): boolean {
  return service.routes.length > 0 || app.gateway.auth?.jwks.service === service.name;
}

/** Every distinct event of the app, by type, sorted. */
export function appEvents(app: AppDef): DeclaredEvent[] {
  const byType = new Map<string, DeclaredEvent>();
  for (const s of app.services) {
    const { publishes, subscribes } = eventsOf(s);
    for (const e of [...publishes, ...subscribes]) if (!byType.has(e.type)) byType.set(e.type, e);
  }
  return [...byType.values()].sort((a, b) => a.type.localeCompare(b.type));
}

/** Services sorted by name, external ones among them: every generator walks them in this order. */
export function sortedServices(app: AppDef): AppService[] {
  return [...app.services].sort((a, b) => a.name.localeCompare(b.name));
}
