import { callEdges } from '../app-graph.ts';
import type { BuildProblem, RuleInput } from './build-problem.ts';

/**
 * Synchronous calls must form no cycle: with one, a request can wait on itself, and no
 * service can be deployed or reasoned about first. Events may form cycles (they do not wait).
 * Reports each cycle once, starting at its alphabetically first service.
 */
export function syncCycle({ app }: RuleInput): BuildProblem[] {
  const next = new Map<string, string[]>();
  for (const e of callEdges(app)) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const found = new Set<string>();
  const problems: BuildProblem[] = [];
  const visit = (node: string, path: string[]): void => {
    const at = path.indexOf(node);
    if (at !== -1) {
      const cycle = path.slice(at);
      const start = cycle.indexOf([...cycle].sort()[0]!);
      const ordered = [...cycle.slice(start), ...cycle.slice(0, start)];
      const key = ordered.join(' -> ');
      if (!found.has(key)) {
        found.add(key);
        problems.push({
          source: app.services.find((s) => s.name === ordered[0])?.source,
          rule: 'sync-cycle',
          where: `service '${ordered[0]}'`,
          message: `synchronous calls form a cycle: ${key} -> ${ordered[0]}; break it with an event or by moving the function`,
        });
      }
      return;
    }
    for (const to of next.get(node) ?? []) visit(to, [...path, node]);
  };
  for (const s of [...app.services].map((x) => x.name).sort()) visit(s, []);
  return problems;
}
