import type { AppDef } from 'carotene/model';
import { appEvents, callEdges, eventsOf, gatewayReaches, httpEdges, kindLabel, sortedServices, storesOf } from './app-graph.ts';

const id = (kind: string, name: string): string => `${kind}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;

/**
 * The app's topology as a Mermaid flowchart: the gateway and the public routes it serves,
 * services with the stores they own (an external service as a hexagon), synchronous calls
 * (solid arrows), events (dotted arrows through the event) and the outside HTTP APIs services
 * call (with their host).
 */
export function topologyDiagram(app: AppDef): string {
  const lines = ['flowchart LR', `  ${id('gw', 'gateway')}(["gateway"])`];
  for (const s of sortedServices(app)) {
    lines.push(`  subgraph ${id('box', s.name)}["${s.name}"]`);
    const label = kindLabel(s);
    // an external service is a hexagon, with what it is under its name
    lines.push(label ? `    ${id('svc', s.name)}{{"${s.name}<br/>${label}"}}` : `    ${id('svc', s.name)}["${s.name}"]`);
    for (const t of [...storesOf(s)].sort((a, b) => a.name.localeCompare(b.name))) lines.push(`    ${id(`db_${s.name}`, t.name)}[("${t.name}")]`);
    lines.push('  end');
  }
  for (const e of appEvents(app)) lines.push(`  ${id('evt', e.type)}>"${e.type}"]`);
  const apis = httpEdges(app);
  for (const e of apis) lines.push(`  ${id(`ext_${e.from}`, e.name)}{{"${e.name}<br/>${e.host}"}}`);
  for (const s of sortedServices(app)) {
    if (gatewayReaches(app, s)) {
      const routes = s.routes.length;
      lines.push(`  ${id('gw', 'gateway')} -->|"${routes} route${routes === 1 ? '' : 's'}"| ${id('svc', s.name)}`);
    }
    for (const t of [...storesOf(s)].sort((a, b) => a.name.localeCompare(b.name))) lines.push(`  ${id('svc', s.name)} --- ${id(`db_${s.name}`, t.name)}`);
  }
  for (const e of callEdges(app)) lines.push(`  ${id('svc', e.from)} -->|calls| ${id('svc', e.to)}`);
  for (const e of apis) lines.push(`  ${id('svc', e.from)} -->|HTTP| ${id(`ext_${e.from}`, e.name)}`);
  for (const s of sortedServices(app)) {
    const { publishes, subscribes } = eventsOf(s);
    for (const e of [...publishes].sort((a, b) => a.type.localeCompare(b.type))) lines.push(`  ${id('svc', s.name)} -.->|publishes| ${id('evt', e.type)}`);
    for (const e of [...subscribes].sort((a, b) => a.type.localeCompare(b.type))) lines.push(`  ${id('evt', e.type)} -.->|delivers| ${id('svc', s.name)}`);
  }
  return `${lines.join('\n')}\n`;
}
