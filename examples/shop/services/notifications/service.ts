import { existsSync } from 'node:fs';
import { handler, implement, subscriber } from 'carotene';
import { OrderConfirmed, OrderFailed, OrderPlaced } from '../orders/events.ts';
import { Notifications } from './contract.ts';
import { migrations } from './migrations.ts';
import { NotificationTable } from './tables.ts';

const cents = (n: number) => `${(n / 100).toFixed(2)}`;
const writes = { updates: [NotificationTable] } as const;

/**
 * Fault injection for the chaos tests: while the file named by SHOP_NOTIFICATIONS_FAULT_FILE
 * exists, every notification fails, as a subscriber with a bug would (its events retry, then
 * go to the dead letters; deleting the file is "deploying the fix").
 */
function injectedFault(): void {
  const file = process.env.SHOP_NOTIFICATIONS_FAULT_FILE;
  if (file && existsSync(file)) throw new Error(`notifications are failing on purpose (${file} exists)`);
}

/**
 * Tells users what happened to their orders. It owns its database and learns everything
 * from the orders service's events; nothing calls it but the gateway.
 */
export default implement(Notifications, {
  stores: [NotificationTable],
  subscribes: [OrderPlaced, OrderConfirmed, OrderFailed],
  migrations,
})
  .subscriptions({
    // keyed by the event id: the inbox already runs each event once, and this keeps it so
    OrderPlaced: subscriber(writes, async ({ id, time, data }, ctx) => {
      injectedFault();
      await ctx.store.notifications.insert({
        id,
        userId: data.userId,
        orderId: data.orderId,
        kind: 'ORDER_PLACED',
        message: `Order ${data.orderId} placed: ${data.items.length} line(s), ${cents(data.total)}`,
        createdAt: time,
      });
    }),
    OrderConfirmed: subscriber(writes, async ({ id, time, data }, ctx) => {
      injectedFault();
      await ctx.store.notifications.insert({
        id,
        userId: data.userId,
        orderId: data.orderId,
        kind: 'ORDER_CONFIRMED',
        message: `Order ${data.orderId} confirmed: ${cents(data.total)} charged`,
        createdAt: time,
      });
    }),
    OrderFailed: subscriber(writes, async ({ id, time, data }, ctx) => {
      injectedFault();
      await ctx.store.notifications.insert({
        id,
        userId: data.userId,
        orderId: data.orderId,
        kind: 'ORDER_FAILED',
        message: `Order ${data.orderId} failed: ${data.reason}`,
        createdAt: time,
      });
    }),
  })
  .handlers({
    listNotifications: handler(
      { reads: [NotificationTable], route: 'GET /api/notifications', auth: 'required' },
      async ({ limit }, ctx) => {
        const rows = await ctx.store.notifications
          .query()
          .where('userId', '=', ctx.auth.sub)
          .orderBy('createdAt', 'desc')
          .orderBy('id')
          .limit(limit)
          .execute();
        return { items: rows.map(({ id, kind, orderId, message, createdAt }) => ({ id, kind, orderId, message, createdAt })) };
      },
    ),
  });
