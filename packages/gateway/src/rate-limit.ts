import type { RateLimitOptions, RateLimitRule } from 'carotene/model';
import type { PublicRoute } from 'carotene/model';

/** What a limiter answers for one request. */
export interface RateDecision {
  readonly allowed: boolean;
  /** The bucket's capacity: the most requests allowed in a burst. */
  readonly limit: number;
  /** Whole requests left in the bucket after this one. */
  readonly remaining: number;
  /** Seconds until the bucket is full again. */
  readonly resetSeconds: number;
  /** Seconds until the next request would be allowed (0 when this one was). */
  readonly retryAfterSeconds: number;
}

/**
 * A token bucket per key: `rule.capacity` requests in a burst, refilled at
 * `rule.refillPerSecond`. The memory limiter serves one gateway; the Redis one shares the
 * buckets between gateway replicas.
 *
 * ```ts
 * const decision = await limiter.take('GET /api/products|ip:10.0.0.7', { capacity: 60, refillPerSecond: 1 });
 * if (!decision.allowed) reply.header('retry-after', decision.retryAfterSeconds);
 * ```
 */
export interface RateLimiter {
  take(key: string, rule: RateLimitRule): Promise<RateDecision>;
  close(): Promise<void>;
}

/** What `@carotene/redis` provides the gateway: buckets shared by every replica. */
export interface RedisEngine {
  RedisRateLimiter: new (options: { url: string; prefix?: string }) => RateLimiter;
}

/** Per route and client unless configured: 100 requests in a burst, 10 a second after that. */
export const DEFAULT_RULE: RateLimitRule = { capacity: 100, refillPerSecond: 10 };

/** The rule of a route: its own entry in `routes` (`'POST /api/users/login'`), else the default; `undefined` when off. */
export function ruleFor(route: PublicRoute, options: RateLimitOptions): RateLimitRule | undefined {
  const own = options.routes?.[`${route.method} ${route.path}`];
  if (own === 'off') return undefined;
  if (own) return own;
  return options.default === 'off' ? undefined : (options.default ?? DEFAULT_RULE);
}

/** The decision from bucket state, shared by both limiters so they answer alike. */
export function decide(rule: RateLimitRule, tokensAfter: number, allowed: boolean): RateDecision {
  const missing = rule.capacity - tokensAfter;
  return {
    allowed,
    limit: rule.capacity,
    remaining: Math.max(0, Math.floor(tokensAfter)),
    resetSeconds: Math.max(0, Math.ceil(missing / rule.refillPerSecond)),
    retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - tokensAfter) / rule.refillPerSecond)),
  };
}

/** `RateLimit-*` headers (IETF draft) for every limited answer, and `Retry-After` on a 429. */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  const headers: Record<string, string> = {
    'ratelimit-limit': String(decision.limit),
    'ratelimit-remaining': String(decision.remaining),
    'ratelimit-reset': String(decision.resetSeconds),
  };
  if (!decision.allowed) headers['retry-after'] = String(decision.retryAfterSeconds);
  return headers;
}

/** Refuses a rule that would never allow a request or never refill. */
export function assertRule(rule: RateLimitRule, where: string): void {
  if (!(Number.isFinite(rule.capacity) && rule.capacity >= 1 && Number.isFinite(rule.refillPerSecond) && rule.refillPerSecond > 0)) {
    throw new TypeError(`${where}: a rate limit needs capacity >= 1 and refillPerSecond > 0, got ${JSON.stringify(rule)}`);
  }
}
