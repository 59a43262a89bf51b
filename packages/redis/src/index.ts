// @carotene/redis: the gateway's rate-limit buckets in Redis, shared by every replica.
// Loaded by the gateway when the app sets gateway.rateLimit.redis; a gateway limiting in
// memory does not install it.
export { RedisRateLimiter, type RedisRateLimiterOptions } from './rate-limit-redis.ts';
