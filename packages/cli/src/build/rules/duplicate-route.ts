import type { BuildProblem, RuleInput } from './build-problem.ts';

/** Two handlers may not serve one public route (parameter names do not make routes differ). */
export function duplicateRoute({ app }: RuleInput): BuildProblem[] {
  const seen = new Map<string, string>();
  const problems: BuildProblem[] = [];
  for (const s of app.services) {
    for (const r of s.routes) {
      const id = `${r.method} ${r.path.replace(/:[^/]+/g, ':')}`;
      const owner = `${s.name}.${r.function}`;
      const first = seen.get(id);
      if (first) {
        problems.push({
          source: s.source,
          rule: 'duplicate-route',
          where: `service '${s.name}', handler '${r.function}'`,
          message: `public route '${r.method} ${r.path}' is already served by ${first}`,
        });
      } else {
        seen.set(id, owner);
      }
    }
  }
  return problems;
}
