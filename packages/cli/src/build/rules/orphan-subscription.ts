import { eventsOf } from '../app-graph.ts';
import type { BuildProblem, RuleInput } from './build-problem.ts';

/** A subscription to an event that no service of the app publishes would never fire. */
export function orphanSubscription({ app }: RuleInput): BuildProblem[] {
  const published = new Set(app.services.flatMap((s) => eventsOf(s).publishes.map((e) => e.type)));
  const problems: BuildProblem[] = [];
  for (const s of app.services) {
    for (const e of eventsOf(s).subscribes) {
      if (!published.has(e.type)) {
        problems.push({
          source: s.source,
          rule: 'orphan-subscription',
          where: `service '${s.name}', subscription '${e.type}'`,
          message: `subscribes to '${e.type}', which no service of the app publishes; add it to '${e.service}'s publishes or drop the subscription`,
        });
      }
    }
  }
  return problems;
}
