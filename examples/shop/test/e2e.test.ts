import { walkShop } from './shop-walk.ts';

// The shop as real processes, one per service: gateway → users, catalog, orders, payments,
// notifications and recommendations (in Python, over gRPC).
walkShop({ title: 'one process per service', args: [], processes: (services) => services });
