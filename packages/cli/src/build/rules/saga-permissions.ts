import { implementedServices } from 'carotene/model';
import type { BuildProblem, RuleInput } from './build-problem.ts';

/**
 * A saga may touch only what its service owns and integrates with, like a handler, and a
 * handler may start only sagas its service lists. `implement()` and `tsc` already refuse
 * this; code that escapes them (a spread, plain JavaScript) is caught here.
 */
export function sagaPermissions({ app }: RuleInput): BuildProblem[] {
  const problems: BuildProblem[] = [];
  for (const s of implementedServices(app)) {
    // a service object written by hand may leave sagas out
    const sagas = s.sagas ?? [];
    const stores = new Set(s.stores.map((t) => t.name));
    const integrations = new Set([...s.integrations, ...(s.http ?? [])].map((c) => c.name));
    const publishes = new Set((s.publishes ?? []).map((e) => e.type));
    const refuse = (saga: string, message: string) =>
      problems.push({ source: s.source, rule: 'saga-permissions', where: `service '${s.name}', saga '${saga}'`, message });
    for (const saga of sagas) {
      const p = saga.permissions;
      for (const c of p.calls ?? []) {
        if (!integrations.has(c.name))
          refuse(saga.name, `calls '${c.name}', which the service does not declare; add its contract to implement(..., { integrations: [...] })`);
      }
      for (const t of [...(p.reads ?? []), ...(p.updates ?? [])]) {
        if (!stores.has(t.name)) refuse(saga.name, `uses table '${t.name}', which is not in the service's stores`);
      }
      for (const e of p.publishes ?? []) {
        if (!publishes.has(e.type)) refuse(saga.name, `publishes '${e.type}', which is not in the service's publishes`);
      }
    }
    const listed = new Set(sagas.map((g) => g.name));
    for (const [fn, h] of Object.entries(s.handlers).sort(([a], [b]) => a.localeCompare(b))) {
      for (const g of h.permissions.sagas ?? []) {
        if (!listed.has(g.name)) {
          problems.push({
            source: s.source,
            rule: 'saga-permissions',
            where: `service '${s.name}', handler '${fn}'`,
            message: `starts saga '${g.name}', which the service does not list; add it to implement(..., { sagas: [...] })`,
          });
        }
      }
    }
  }
  return problems;
}
