import type { AppDef } from 'carotene/model';
import { contractChanges, snapshotContracts, type ContractSnapshot } from './contract-snapshot.ts';
import type { BuildProblem, Rule } from './rules/build-problem.ts';
import { duplicateRoute } from './rules/duplicate-route.ts';
import { orphanSubscription } from './rules/orphan-subscription.ts';
import { sagaPermissions } from './rules/saga-permissions.ts';
import { sharedStore } from './rules/shared-store.ts';
import { syncCycle } from './rules/sync-cycle.ts';
import { undeclaredIntegration } from './rules/undeclared-integration.ts';
import { unknownIntegration } from './rules/unknown-integration.ts';

/** Every rule `carrot build` checks on the declarations, in the order it reports them. */
export const RULES: readonly Rule[] = [undeclaredIntegration, unknownIntegration, syncCycle, sharedStore, orphanSubscription, duplicateRoute, sagaPermissions];

/**
 * Checks the app's architecture: the rules above, and breaking changes against `snapshot`
 * when one was saved. An empty list means the app may be built.
 */
export function validateApp(app: AppDef, snapshot?: ContractSnapshot): BuildProblem[] {
  const problems = RULES.flatMap((rule) => rule({ app }));
  if (snapshot) problems.push(...contractChanges(snapshot, snapshotContracts(app)));
  return problems;
}
