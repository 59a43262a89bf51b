import { type BulkheadPolicy, BulkheadRejectedError, bulkhead } from 'cockatiel';
import { platformError } from 'carotene/model';
import type { CallPolicy } from './call-policy.ts';

/**
 * Limits the calls in flight to one dependency (cockatiel's bulkhead): `maxConcurrent` run,
 * `maxQueue` wait for a slot, and one more fails at once with UNAVAILABLE, so a slow
 * dependency cannot tie up every request of its callers.
 *
 * ```ts
 * const limit = new Bulkhead('catalog', 'catalog', { maxConcurrent: 64, maxQueue: 256 });
 * await limit.execute(() => call());
 * ```
 */
export class Bulkhead {
  readonly #dependency: string;
  readonly #service: string;
  readonly #policy: BulkheadPolicy;

  constructor(dependency: string, service: string, limits: CallPolicy['bulkhead']) {
    this.#dependency = dependency;
    this.#service = service;
    this.#policy = bulkhead(limits.maxConcurrent, limits.maxQueue);
  }

  /** Free slots: running, and waiting. */
  get free(): { running: number; queued: number } {
    return { running: this.#policy.executionSlots, queued: this.#policy.queueSlots };
  }

  async execute<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await this.#policy.execute(fn);
    } catch (err) {
      if (err instanceof BulkheadRejectedError) {
        throw platformError('UNAVAILABLE', `${this.#dependency} has too many calls in flight from this process; retry shortly`, {
          service: this.#service,
          details: { dependency: this.#dependency, state: 'bulkhead-full', retryAfterMs: 1_000, reason: 'bulkhead-full' },
        });
      }
      throw err;
    }
  }
}
