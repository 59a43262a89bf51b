import type { Redis } from 'ioredis';
import type { RateLimitRule } from 'carotene/model';
import { decide, type RateDecision, type RateLimiter } from '@carotene/gateway';

// One atomic step of a token bucket. Redis's own clock (TIME) is the only clock, so
// replicas with skewed clocks still share one budget. Tokens travel as strings: Lua
// numbers returned to Redis would be truncated to integers.
const TAKE = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate / 1000)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) * 1000 / rate) + 1000)
return { allowed, tostring(tokens) }
`;

type TakeCommand = (key: string, capacity: number, rate: number) => Promise<[number, string]>;

export interface RedisRateLimiterOptions {
  /** `redis://host:port/db` */
  readonly url: string;
  /** Prefix of every key (default `carotene:rl:`); give each app its own. */
  readonly prefix?: string;
  /** Longest wait for Redis per request before failing (default 500 ms). */
  readonly timeoutMs?: number;
}

/**
 * Token buckets in Redis, shared by every gateway replica that points at the same server
 * and prefix. Each request is one round trip running an atomic Lua script.
 *
 * ```ts
 * const limiter = new RedisRateLimiter({ url: 'redis://127.0.0.1:6379', prefix: 'shop:rl:' });
 * ```
 */
export class RedisRateLimiter implements RateLimiter {
  // loaded on first use: a gateway limiting in memory never pays for the Redis client (~20 MB)
  readonly #redis: Promise<Redis>;
  readonly #prefix: string;

  constructor(options: RedisRateLimiterOptions) {
    this.#prefix = options.prefix ?? 'carotene:rl:';
    this.#redis = import('ioredis').then(({ Redis }) => {
      const redis = new Redis(options.url, {
        lazyConnect: false,
        // requests wait for a connection at most commandTimeout, then fail (and the gateway lets them through)
        enableOfflineQueue: true,
        maxRetriesPerRequest: 1,
        commandTimeout: options.timeoutMs ?? 500,
      });
      // connection errors surface per request; without a listener they would be thrown
      redis.on('error', () => undefined);
      redis.defineCommand('caroteneTake', { numberOfKeys: 1, lua: TAKE });
      return redis;
    });
    // a client that could not be loaded fails each request that uses it, not the process
    this.#redis.catch(() => undefined);
  }

  /** Resolves once connected (or rejects), for a clear failure at start. */
  async ready(): Promise<void> {
    const redis = await this.#redis;
    if (redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', resolve);
      redis.once('end', () => reject(new Error('Redis connection ended')));
    });
  }

  async take(key: string, rule: RateLimitRule): Promise<RateDecision> {
    const redis = await this.#redis;
    const [allowed, tokens] = await (redis as unknown as { caroteneTake: TakeCommand }).caroteneTake(this.#prefix + key, rule.capacity, rule.refillPerSecond);
    return decide(rule, Number(tokens), allowed === 1);
  }

  async close(): Promise<void> {
    (await this.#redis).disconnect();
  }
}
