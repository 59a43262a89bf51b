import { app } from 'carotene';
import catalog from './services/catalog/service.ts';
import notifications from './services/notifications/service.ts';
import orders from './services/orders/service.ts';
import payments from './services/payments/service.ts';
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
  services: [users, catalog, orders, payments, notifications],
  gateway: {
    port: 8080,
    auth: { jwks: { service: 'users', function: 'jwks' }, issuer, audience },
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
