import { app } from 'carotene';
import catalog from './services/catalog/service.ts';
import notifications from './services/notifications/service.ts';
import orders from './services/orders/service.ts';
import payments from './services/payments/service.ts';
import recommendations from './services/recommendations/service.ts';
import users from './services/users/service.ts';

// Tokens are issued by users and verified by the gateway: both read these two values.
const issuer = 'carotene-shop';
const audience = 'shop-api';

/**
 * The reference shop: accounts, a catalog with stock, orders with checkout, and a simulated
 * card provider. `carrot dev examples/shop` runs it; the gateway listens on port 8080.
 */
export default app({
  name: 'shop',
  services: [users, catalog, orders, payments, notifications, recommendations],
  gateway: {
    port: 8080,
    // a rotated-in signing key is looked up at most every 2 s
    auth: { jwks: { service: 'users', function: 'jwks' }, issuer, audience, unknownKeyCooldownMs: 2_000 },
    // sign-in and sign-up are limited per client against password guessing; set SHOP_REDIS_URL
    // to share the limits between several gateways
    rateLimit: {
      default: 'off',
      routes: {
        'POST /api/users/login': { capacity: 20, refillPerSecond: 1 },
        'POST /api/users/register': { capacity: 20, refillPerSecond: 1 },
      },
      redis: process.env.SHOP_REDIS_URL ? { url: process.env.SHOP_REDIS_URL, prefix: 'shop:rl:' } : undefined,
    },
    cors: { origins: (process.env.SHOP_CORS_ORIGINS ?? 'http://localhost:5173').split(',') },
  },
  environments: {
    production: {
      // the Ingress: its host, the controller that serves it, TLS from the Secret shop-gateway-tls
      gateway: {
        domain: 'api.shop.example',
        ingressClass: 'nginx',
        // three gateway replicas share the sign-in limits, or each would allow 20 a client
        rateLimit: { redis: { url: 'redis://redis:6379', prefix: 'shop:rl:' } },
      },
    },
  },
  config: {
    users: {
      issuer,
      audience,
      tokenTtlSeconds: 3600,
      admin: {
        email: process.env.SHOP_ADMIN_EMAIL ?? 'admin@shop.test',
        password: process.env.SHOP_ADMIN_PASSWORD ?? 'change-me-admin',
        name: 'Shop Admin',
      },
    },
  },
});
