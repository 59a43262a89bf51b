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

/**
 * The services whose events are pushed to `subscriber` over the network, sorted: with direct
 * delivery the publisher of every event it subscribes to; on a broker only those where one
 * side is a service in another language (it reads no stream: the Carotene side's relay pushes
 * to it, and it pushes its own events to each subscriber).
 */
export function eventPushers(app: AppDef, subscriber: AppService, transport: 'direct' | 'nats'): string[] {
  const external = (name: string) => app.services.some((s) => s.name === name && s.kind === 'external');
  const publishers = eventsOf(subscriber)
    .subscribes.map((e) => e.service)
    .filter((p) => p !== subscriber.name && (transport === 'direct' || subscriber.kind === 'external' || external(p)));
  return [...new Set(publishers)].sort();
}

/** Per event type `publisher` publishes, the services that subscribe to it (sorted); types nobody subscribes to are left out. */
export function eventSubscribers(app: AppDef, publisher: AppService): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of [...eventsOf(publisher).publishes].sort((a, b) => a.type.localeCompare(b.type))) {
    const subscribers = app.services.filter((s) => eventsOf(s).subscribes.some((x) => x.type === e.type)).map((s) => s.name);
    if (subscribers.length > 0) out[e.type] = subscribers.sort();
  }
  return out;
}

/**
 * The services an external service opens connections to, sorted: those it calls and the
 * subscribers of the events it publishes (it pushes them to their `Events/Deliver`). Each
 * is a `CAROTENE_PEER_<NAME>_URL` of its environment and an egress edge of its policy.
 */
export function externalPeers(app: AppDef, def: AppService): string[] {
  const subscribers = Object.values(eventSubscribers(app, def)).flat();
  return [...new Set([...def.integrations.map((c) => c.name), ...subscribers])].sort();
}

/**
 * What an external service is told about events (docs/grpc.md, "Events"):
 * `CAROTENE_EVENT_SUBSCRIBERS`, JSON of {@link eventSubscribers} (where to push each event it
 * publishes), and `CAROTENE_EVENT_PUBLISHERS`, the services whose events it subscribes to (the
 * only callers its `Events/Deliver` admits). Empty when it has no events.
 */
export function externalEventEnv(app: AppDef, def: AppService): Record<string, string> {
  const { publishes, subscribes } = eventsOf(def);
  const env: Record<string, string> = {};
  if (publishes.length > 0) env.CAROTENE_EVENT_SUBSCRIBERS = JSON.stringify(eventSubscribers(app, def));
  if (subscribes.length > 0) env.CAROTENE_EVENT_PUBLISHERS = [...new Set(subscribes.map((e) => e.service))].sort().join(',');
  return env;
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
