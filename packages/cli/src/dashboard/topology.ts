import { callEdges, eventsOf, gatewayReaches, kindLabel, storesOf } from '../build/app-graph.ts';
import type { AppDef } from 'carotene/model';
import { GATEWAY_WORKLOAD } from './health-collector.ts';

export interface TopologyNode {
  readonly id: string;
  readonly kind: 'gateway' | 'service';
  /** What a service is when it is not a Carotene one: `external · gRPC`. */
  readonly label?: string;
  /** Layout: column (0 = the gateway, then by depth of calls and events) and row within it. */
  readonly column: number;
  readonly row: number;
  readonly routes: readonly string[];
  readonly stores: readonly string[];
  readonly publishes: readonly string[];
  readonly subscribes: readonly string[];
}

export interface TopologyEdge {
  readonly from: string;
  readonly to: string;
  /** route: the gateway serves public routes of `to`; call: declared integration; event: `to` subscribes to events of `from`. */
  readonly kind: 'route' | 'call' | 'event';
  /** Event types for an event edge; the number of routes for a route edge. */
  readonly label: string;
}

export interface Topology {
  readonly app: string;
  readonly nodes: readonly TopologyNode[];
  readonly edges: readonly TopologyEdge[];
}

/**
 * The app's declared dependencies as a graph to draw: the gateway, every service, the
 * routes the gateway serves, the calls each service declared, and event flows from each
 * publisher to each subscriber. Columns follow the longest path from the gateway, so calls
 * and events read left to right.
 *
 * ```ts
 * topologyOf(app).edges.filter((e) => e.kind === 'call'); // [{ from: 'orders', to: 'catalog', ... }]
 * ```
 */
export function topologyOf(app: AppDef): Topology {
  const edges: TopologyEdge[] = [];
  for (const s of app.services) {
    if (gatewayReaches(app, s))
      edges.push({ from: GATEWAY_WORKLOAD, to: s.name, kind: 'route', label: `${s.routes.length} route${s.routes.length === 1 ? '' : 's'}` });
  }
  for (const e of callEdges(app)) edges.push({ from: e.from, to: e.to, kind: 'call', label: 'calls' });
  for (const subscriber of app.services) {
    const byPublisher = new Map<string, string[]>();
    for (const event of eventsOf(subscriber).subscribes) byPublisher.set(event.service, [...(byPublisher.get(event.service) ?? []), event.name]);
    for (const [publisher, names] of byPublisher) edges.push({ from: publisher, to: subscriber.name, kind: 'event', label: names.sort().join(', ') });
  }

  const column = columns([GATEWAY_WORKLOAD, ...app.services.map((s) => s.name)], edges);
  const rows = new Map<number, number>();
  const rowOf = (c: number): number => {
    const r = rows.get(c) ?? 0;
    rows.set(c, r + 1);
    return r;
  };
  const nodes: TopologyNode[] = [{ id: GATEWAY_WORKLOAD, kind: 'gateway', column: 0, row: rowOf(0), routes: [], stores: [], publishes: [], subscribes: [] }];
  for (const s of [...app.services].sort((a, b) => (column.get(a.name) ?? 1) - (column.get(b.name) ?? 1))) {
    const c = column.get(s.name) ?? 1;
    const { publishes, subscribes } = eventsOf(s);
    nodes.push({
      id: s.name,
      kind: 'service',
      column: c,
      row: rowOf(c),
      routes: s.routes.map((r) => `${r.method} ${r.path}`),
      ...(kindLabel(s) ? { label: kindLabel(s) } : {}),
      stores: storesOf(s).map((t) => t.name),
      publishes: publishes.map((e) => e.type),
      subscribes: subscribes.map((e) => e.type),
    });
  }
  return { app: app.name, nodes, edges };
}

/** Longest path from the gateway (column 0); a service nothing leads to sits in column 1. */
function columns(ids: readonly string[], edges: readonly TopologyEdge[]): Map<string, number> {
  const column = new Map<string, number>(ids.map((id) => [id, id === GATEWAY_WORKLOAD ? 0 : 1]));
  // relax at most |nodes| times: a cycle of events (allowed, unlike calls) cannot loop forever
  for (let round = 0; round < ids.length; round++) {
    let moved = false;
    for (const e of edges) {
      const next = (column.get(e.from) ?? 0) + 1;
      if (next > (column.get(e.to) ?? 1) && next <= ids.length) {
        column.set(e.to, next);
        moved = true;
      }
    }
    if (!moved) break;
  }
  return column;
}
