// The shop as the gateway bench runs it: the same services and gateway settings, plus one
// route that puts the catalog's product list behind what the issue asks the gateway to do
// on it (a verified token and a rate limit), beside the shop's own public route to it.
import type { AppDef } from '../../packages/carotene/src/declare/app.ts';
import type { PublicRoute } from '../../packages/carotene/src/declare/service.ts';
import shop from '../../examples/shop/app.ts';

/** `listProducts` again, for signed-in users only and rate limited per user. */
export const SIGNED_IN_PRODUCTS = '/api/bench/products';

/**
 * Big enough that the bench's one user is never refused at ~2,000 requests a second: the
 * bucket is taken from and its `RateLimit-*` headers are sent on every request.
 */
export const BENCH_RULE = { capacity: 1_000_000, refillPerSecond: 1_000_000 };

const app: AppDef = {
  ...shop,
  services: shop.services.map((service) => {
    const list = service.routes.find((r) => r.function === 'listProducts');
    if (!list) return service;
    const signedIn: PublicRoute = { ...list, path: SIGNED_IN_PRODUCTS, auth: 'required', roles: [] };
    return { ...service, routes: [...service.routes, signedIn] };
  }),
  gateway: {
    ...shop.gateway,
    rateLimit: {
      ...shop.gateway.rateLimit,
      routes: { ...shop.gateway.rateLimit?.routes, [`GET ${SIGNED_IN_PRODUCTS}`]: BENCH_RULE },
    },
  },
};

export default app;
