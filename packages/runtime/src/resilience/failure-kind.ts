import { isCaroteneError } from 'carotene/model';

/** Codes that say the dependency itself is in trouble, not the request. */
const DEPENDENCY_FAILURES = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'INTERNAL']);

/** `details.reason` of the errors this module raises itself, without calling anyone. */
export const FAIL_FAST_REASONS = ['breaker-open', 'breaker-half-open', 'bulkhead-full'] as const;
export type FailFastReason = (typeof FAIL_FAST_REASONS)[number];

/** True for an UNAVAILABLE raised by an open breaker or a full bulkhead (nothing was sent). */
export function isFailFast(err: unknown): boolean {
  if (!isCaroteneError(err, 'UNAVAILABLE')) return false;
  const reason = (err.details as { reason?: unknown } | undefined)?.reason;
  return (FAIL_FAST_REASONS as readonly unknown[]).includes(reason);
}

/**
 * Whether `err` counts against `callee`'s breaker: a transport failure, UNAVAILABLE,
 * DEADLINE_EXCEEDED or INTERNAL raised by the callee itself. Never a domain error, never a
 * rejected input, never our own fail-fast, and never a failure the callee passed on from a
 * dependency of its own (that dependency's breaker, in the callee, deals with it).
 */
export function countsAsFailure(err: unknown, callee: string): boolean {
  if (!isCaroteneError(err)) return true;
  if (err.domain || !DEPENDENCY_FAILURES.has(err.code) || isFailFast(err)) return false;
  return err.service === undefined || err.service === callee;
}

/**
 * Whether another attempt may help: the callee was unreachable or the attempt ran out of
 * time. INTERNAL is a bug in the callee that a repeat would hit again.
 */
export function isRetryable(err: unknown, callee: string): boolean {
  if (!isCaroteneError(err) || err.domain || isFailFast(err)) return false;
  if (err.code !== 'UNAVAILABLE' && err.code !== 'DEADLINE_EXCEEDED') return false;
  return err.service === undefined || err.service === callee;
}
