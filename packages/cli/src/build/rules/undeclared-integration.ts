import { implementedServices } from 'carotene/model';
import type { BuildProblem, RuleInput } from './build-problem.ts';

/**
 * A handler may call only services (and outside HTTP APIs) its own service lists in `integrations`. `tsc` already
 * refuses this; code that escapes the types (a cast, plain JavaScript) is caught here.
 */
export function undeclaredIntegration({ app }: RuleInput): BuildProblem[] {
  const problems: BuildProblem[] = [];
  for (const s of implementedServices(app)) {
    // a service object written by hand may leave http out
    const declared = new Set([...s.integrations, ...(s.http ?? [])].map((c) => c.name));
    for (const [fn, h] of Object.entries(s.handlers).sort(([a], [b]) => a.localeCompare(b))) {
      for (const c of h.permissions.calls ?? []) {
        if (!declared.has(c.name)) {
          problems.push({
            source: s.source,
            rule: 'undeclared-integration',
            where: `service '${s.name}', handler '${fn}'`,
            message:
              c.kind === 'http'
                ? `uses the HTTP integration '${c.name}', which the service does not declare; add it to implement(..., { integrations: [...] })`
                : `calls '${c.name}', which the service does not declare; add its contract to implement(..., { integrations: [...] })`,
          });
        }
      }
    }
  }
  return problems;
}
