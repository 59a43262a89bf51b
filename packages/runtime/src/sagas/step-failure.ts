import type { SagaFailure } from 'carotene/model';
import { isCaroteneError } from 'carotene/model';

/**
 * Platform codes that no retry can change: the call was refused as asked, or the step's own
 * code is wrong. (500-class ones among them are bugs; retrying a bug until the deadline
 * would only hide its cause behind SAGA_TIMEOUT.)
 */
const PERMANENT = new Set([
  'SAGA_STEP_FAILED',
  'INVALID_INPUT',
  'INVALID_OUTPUT',
  'INVALID_ROW',
  'INVALID_EVENT',
  'INVALID_CONFIG',
  'NO_TRANSACTION',
  'PERMISSION_DENIED',
  'UNKNOWN_FUNCTION',
  'NOT_MOCKED',
]);

/** 4xx codes that do say "later": the request itself was fine. */
const RETRY_LATER = new Set([408, 429]);

/** How one failed try of a step ends: retried (outcome unknown), or failed for good. */
export interface StepFailure {
  readonly failure: SagaFailure;
  /** No retry can help: the saga compensates at once. */
  readonly permanent: boolean;
  /**
   * The participant refused before doing anything (a declared error, `ctx.fail`, a refusal
   * of the call): the step itself has nothing to undo. False for an error of the step's own
   * code, which may come after calls that did something.
   */
  readonly refused: boolean;
}

/**
 * Classifies what a step threw. Permanent: a declared (domain) error, `ctx.fail`, a
 * 4xx-class Carotene error other than a timeout or rate limit (the call was refused as
 * asked: INVALID_INPUT, CONFLICT, FORBIDDEN, ...), one of the codes above, or a validation
 * error (a zod error) of the step's own code, recorded as INVALID_INPUT. Anything else
 * (unreachable, timed out, INTERNAL, an exception) leaves the outcome unknown: retried with
 * the same idempotency key.
 *
 * ```ts
 * const { failure, permanent } = stepFailure('charge', err);  // { step: 'charge', code, message }
 * ```
 */
export function stepFailure(step: string, err: unknown): StepFailure {
  if (isCaroteneError(err)) {
    const refusal = err.domain || err.code === 'SAGA_STEP_FAILED' || (err.status >= 400 && err.status < 500 && !RETRY_LATER.has(err.status));
    return { failure: { step, code: err.code, message: err.message }, permanent: refusal || PERMANENT.has(err.code), refused: refusal };
  }
  const issues = zodIssues(err);
  if (issues !== undefined)
    return { failure: { step, code: 'INVALID_INPUT', message: `step '${step}' failed validation: ${issues}` }, permanent: true, refused: false };
  return { failure: { step, code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) }, permanent: false, refused: false };
}

/** The issues of a zod error as one line (`items: Too small; total: Expected number`), else undefined. */
function zodIssues(err: unknown): string | undefined {
  const e = err as { name?: unknown; issues?: unknown } | null;
  if (e === null || typeof e !== 'object' || e.name !== 'ZodError' || !Array.isArray(e.issues)) return undefined;
  return (e.issues as { path?: unknown[]; message?: unknown }[])
    .map((i) => `${Array.isArray(i.path) && i.path.length > 0 ? i.path.join('.') : '(value)'}: ${String(i.message)}`)
    .join('; ');
}
