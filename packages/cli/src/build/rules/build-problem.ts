import type { AppDef } from 'carotene/model';

/** One thing `carrot build` refuses, with where it was found. */
export interface BuildProblem {
  /** Stable id of the rule, e.g. `undeclared-integration`. */
  readonly rule: string;
  /** Where: `service 'orders', handler 'checkout'`. */
  readonly where: string;
  /** What is wrong and what to do. */
  readonly message: string;
  /** Where the service was declared (`file:line`), when known. */
  readonly source?: string | undefined;
}

/** The input every rule sees. */
export interface RuleInput {
  readonly app: AppDef;
}

export type Rule = (input: RuleInput) => BuildProblem[];

/**
 * `app.ts: service 'orders' (services/orders/service.ts:12), handler 'checkout': ...` — one
 * line per problem; `show` turns absolute paths into what the reader should see.
 */
export function formatProblem(appFile: string, p: BuildProblem, show: (path: string) => string = (x) => x): string {
  const where = p.source ? p.where.replace(/^(service '[^']+')/, `$1 (${show(p.source)})`) : p.where;
  return `${appFile}: ${where}: ${p.message} [${p.rule}]`;
}
