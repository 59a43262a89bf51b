import { walkShop } from './shop-walk.ts';

// The same walk with orders and payments sharing a process (in-process checkout charges)
// while users and catalog run alone (orders reaches catalog over the network).
walkShop({
  title: 'orders and payments in one process, the rest apart',
  args: ['--group', 'checkout=orders,payments'],
  processes: ['users', 'catalog', 'checkout', 'gateway'],
});
