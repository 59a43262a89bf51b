/** What changed files mean for the running app: which services run changed code. */
export interface RestartPlan {
  /** Services whose code changed, in the app's order. */
  readonly services: readonly string[];
  /** The app module itself changed: every process restarts (its services, ports and names may have). */
  readonly everything: boolean;
}

/**
 * The services to restart after `changed` files: each whose own files (its import graph,
 * see `sourceGraph`) include one of them. A contract is imported by its provider and by
 * every service that lists it in its integrations (they name the contract's value), so a
 * changed contract restarts its callers with it; a changed handler restarts its service alone.
 *
 * ```ts
 * restartPlan(new Set(['/app/services/catalog/contract.ts']), graph, '/app/app.ts');
 * // { services: ['catalog', 'orders'], everything: false }
 * ```
 */
export function restartPlan(changed: ReadonlySet<string>, graph: ReadonlyMap<string, ReadonlySet<string>>, appFile: string): RestartPlan {
  if (changed.has(appFile)) return { services: [...graph.keys()], everything: true };
  const services = [...graph].filter(([, files]) => [...changed].some((file) => files.has(file))).map(([name]) => name);
  return { services, everything: false };
}
