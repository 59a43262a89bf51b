import type { Table } from 'carotene/model';
import { implementedServices } from 'carotene/model';
import type { BuildProblem, RuleInput } from './build-problem.ts';

/** A table belongs to one service: the same table (or table name) in two services' stores is refused. */
export function sharedStore({ app }: RuleInput): BuildProblem[] {
  const owners = new Map<string, { table: Table; service: string }>();
  const problems: BuildProblem[] = [];
  for (const s of implementedServices(app)) {
    for (const t of s.stores) {
      const first = owners.get(t.name);
      if (first && first.service !== s.name) {
        problems.push({
          source: s.source,
          rule: 'shared-store',
          where: `service '${s.name}', store '${t.name}'`,
          message: `store '${t.name}' is also declared by service '${first.service}'; a store has one owner, the other service should call it`,
        });
      } else if (!first) {
        owners.set(t.name, { table: t, service: s.name });
      }
    }
  }
  return problems;
}
