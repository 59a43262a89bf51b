import type { AppDef } from '../../declare/app.ts';

/** One thing `carrot build` refuses, with where it was found. */
export interface BuildProblem {
  /** Stable id of the rule, e.g. `undeclared-integration`. */
  readonly rule: string;
  /** Where: `service 'orders', handler 'checkout'`. */
  readonly where: string;
  /** What is wrong and what to do. */
  readonly message: string;
}

/** The input every rule sees. */
export interface RuleInput {
  readonly app: AppDef;
}

export type Rule = (input: RuleInput) => BuildProblem[];

/** `app.ts: service 'orders', handler 'checkout': ...` — one line per problem. */
export function formatProblem(appFile: string, p: BuildProblem): string {
  return `${appFile}: ${p.where}: ${p.message} [${p.rule}]`;
}
