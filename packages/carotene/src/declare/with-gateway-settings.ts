import type { GatewayOptions, RateLimitOptions } from './app.ts';
import type { GatewaySettings } from './gateway-settings.ts';

/**
 * The app's gateway options with an environment's settings over them.
 *
 * ```ts
 * withGatewaySettings(app.gateway, { rateLimit: { redis: { url: 'redis://redis:6379' } } })
 * ```
 */
export function withGatewaySettings(gateway: GatewayOptions, settings: GatewaySettings): GatewayOptions {
  const { perReplica: _, ...rateLimit } = settings.rateLimit ?? {};
  return {
    ...gateway,
    ...(settings.timeoutMs === undefined ? {} : { timeoutMs: settings.timeoutMs }),
    ...(settings.bodyLimit === undefined ? {} : { bodyLimit: settings.bodyLimit }),
    ...(settings.cors === undefined ? {} : { cors: settings.cors }),
    ...(settings.limits === undefined ? {} : { limits: { ...gateway.limits, ...settings.limits } }),
    ...(settings.rateLimit === undefined ? {} : { rateLimit: mergeRateLimit(gateway.rateLimit, rateLimit) }),
  };
}

function mergeRateLimit(app: RateLimitOptions | undefined, env: RateLimitOptions): RateLimitOptions {
  const routes = app?.routes || env.routes ? { ...app?.routes, ...env.routes } : undefined;
  return { ...app, ...env, ...(routes ? { routes } : {}) };
}
