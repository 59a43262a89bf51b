// The gateway: the only public listener of a Carotene app.
export { createGateway, type CreateGatewayOptions, type Gateway } from './gateway.ts';
export { createTokenVerifier, ACCEPTED_ALGORITHMS, type TokenVerifier, type TokenVerifierOptions } from './jwt.ts';
export type { ErrorBody } from './error-reply.ts';
export { decide, type RateDecision, type RateLimiter, type RedisEngine } from './rate-limit.ts';
