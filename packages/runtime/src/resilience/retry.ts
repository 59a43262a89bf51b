import { ExponentialBackoff, fullJitterGenerator, type IBackoff } from 'cockatiel';
import type { CallPolicy } from './call-policy.ts';

export interface RetryOptions {
  readonly policy: CallPolicy['retry'];
  /** Epoch ms: no attempt starts after it, and no backoff ends after it. */
  readonly deadline: number;
  /** Whether the failure of an attempt may be retried. */
  readonly retryable: (err: unknown) => boolean;
  /** Told before each pause, e.g. to log the retry. */
  readonly onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  /** Test seam for the pause (default: a timer). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `attempt` until it succeeds, fails with an error `retryable` refuses, or
 * `policy.maxAttempts` are spent. Between attempts it waits an exponential backoff with full
 * jitter (a random delay below `baseDelayMs · 2^n`, capped at `maxDelayMs`), so callers that
 * failed together do not come back together. It never retries past `deadline`: when the pause
 * would end after it, the last error is thrown instead.
 *
 * ```ts
 * await withRetries((n) => transport.call(...), { policy, deadline, retryable: (e) => isRetryable(e, 'catalog') });
 * ```
 */
export async function withRetries<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { policy } = options;
  const sleep = options.sleep ?? pause;
  const delays = new ExponentialBackoff({ generator: fullJitterGenerator, initialDelay: policy.baseDelayMs, maxDelay: policy.maxDelayMs });
  let backoff: IBackoff<unknown> | undefined;
  for (let n = 1; ; n += 1) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n >= policy.maxAttempts || !options.retryable(err)) throw err;
      backoff = backoff ? backoff.next(undefined) : delays.next();
      const delayMs = backoff.duration;
      // an attempt needs some time of its own after the pause to be worth starting
      if (Date.now() + delayMs + MIN_ATTEMPT_MS >= options.deadline) throw err;
      options.onRetry?.({ attempt: n, delayMs, error: err });
      await sleep(delayMs);
    }
  }
}

/** Shortest time left for which another attempt is started. */
const MIN_ATTEMPT_MS = 10;

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
