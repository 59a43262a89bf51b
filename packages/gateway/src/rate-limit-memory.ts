import type { RateLimitRule } from 'carotene/model';
import { decide, type RateDecision, type RateLimiter } from './rate-limit.ts';

interface Bucket {
  tokens: number;
  at: number;
  /** When the bucket is full again and can be forgotten. */
  fullAt: number;
}

/**
 * Token buckets in this process's memory: right for one gateway. Buckets that have
 * refilled are dropped every `sweepMs`, so idle clients cost nothing.
 *
 * ```ts
 * const limiter = new MemoryRateLimiter();
 * ```
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: { now?: () => number; sweepMs?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#sweeper = setInterval(() => this.#sweep(), options.sweepMs ?? 60_000);
    this.#sweeper.unref();
  }

  async take(key: string, rule: RateLimitRule): Promise<RateDecision> {
    const now = this.#now();
    const bucket = this.#buckets.get(key);
    const elapsed = bucket ? Math.max(0, now - bucket.at) : 0;
    let tokens = bucket ? Math.min(rule.capacity, bucket.tokens + (elapsed * rule.refillPerSecond) / 1000) : rule.capacity;
    const allowed = tokens >= 1;
    if (allowed) tokens -= 1;
    this.#buckets.set(key, { tokens, at: now, fullAt: now + ((rule.capacity - tokens) * 1000) / rule.refillPerSecond });
    return decide(rule, tokens, allowed);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#buckets.clear();
  }

  /** Buckets currently held (for tests). */
  get size(): number {
    return this.#buckets.size;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, bucket] of this.#buckets) if (bucket.fullAt <= now) this.#buckets.delete(key);
  }
}
