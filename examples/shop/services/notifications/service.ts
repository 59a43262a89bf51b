import { existsSync } from 'node:fs';
import { handler, implement, subscriber, type RowOf } from 'carotene';
import { OrderConfirmed, OrderFailed, OrderPlaced } from '../orders/events.ts';
import { Notifications } from './contract.ts';
import { migrations } from './migrations/index.ts';
import { NotificationTable } from './tables.ts';

type NotificationRow = RowOf<typeof NotificationTable>;

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

/** The part of `ctx` a notification needs: write access to its own table. */
interface NotifyContext {
  readonly store: { readonly notifications: { insert(row: NotificationRow): Promise<unknown> } };
}

/**
 * Records one notification per event, keyed by the event id: the inbox already runs each
 * event once, and the key keeps it so.
 */
async function notify(
  ctx: NotifyContext,
  event: { id: string; time: string; userId: string; orderId: string },
  kind: NotificationRow['kind'],
  what: string,
): Promise<void> {
  injectedFault();
  await ctx.store.notifications.insert({
    id: event.id,
    userId: event.userId,
    orderId: event.orderId,
    kind,
    message: `Order ${event.orderId} ${what}`,
    createdAt: event.time,
  });
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
    OrderPlaced: subscriber(writes, ({ id, time, data }, ctx) =>
      notify(ctx, { id, time, ...data }, 'ORDER_PLACED', `placed: ${data.items.length} line(s), ${cents(data.total)}`),
    ),
    OrderConfirmed: subscriber(writes, ({ id, time, data }, ctx) =>
      notify(ctx, { id, time, ...data }, 'ORDER_CONFIRMED', `confirmed: ${cents(data.total)} charged`),
    ),
    OrderFailed: subscriber(writes, ({ id, time, data }, ctx) => notify(ctx, { id, time, ...data }, 'ORDER_FAILED', `failed: ${data.reason}`)),
  })
  .handlers({
    listNotifications: handler({ reads: [NotificationTable], route: 'GET /api/notifications', auth: 'required' }, async ({ limit }, ctx) => {
      const rows = await ctx.store.notifications.query().where('userId', '=', ctx.auth.sub).orderBy('createdAt', 'desc').orderBy('id').limit(limit).execute();
      return { items: rows.map(({ id, kind, orderId, message, createdAt }) => ({ id, kind, orderId, message, createdAt })) };
    }),
  });
