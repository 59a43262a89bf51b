import { walkShop } from './shop-walk.ts';

// The same walk with orders and payments sharing a process (in-process checkout charges)
// while the other services run alone (orders reaches catalog over the network).
const checkout = ['orders', 'payments'];
walkShop({
  title: 'orders and payments in one process, the rest apart',
  args: ['--group', `checkout=${checkout.join(',')}`],
  processes: (services) => [...services.filter((s) => !checkout.includes(s)), 'checkout'],
});
