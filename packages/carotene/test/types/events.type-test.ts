// Compile-time guarantees of events, checked by `tsc`: each `@ts-expect-error` marks code
// that must NOT compile.
import { z } from 'zod';
import { contract, event, handler, implement, rpc, subscriber, table } from '../../src/index.ts';
import { testService } from '../../../testing/src/index.ts';

// The publisher's contract module: its events live beside its contract.
const OrderPlaced = event('orders', 'OrderPlaced', { version: 1, schema: z.object({ orderId: z.string(), total: z.number().int() }) });
const OrderShipped = event('orders', 'OrderShipped', { version: 1, schema: z.object({ orderId: z.string() }) });
// The same event after the publisher renamed `orderId`.
const OrderPlacedRenamed = event('orders', 'OrderPlaced', { version: 2, schema: z.object({ id: z.string(), total: z.number().int() }) });

const Orders = contract('orders', { place: rpc({ input: z.object({ id: z.string() }), output: z.null() }) });
const Order = table('orders', { key: 'id', schema: z.object({ id: z.string() }) });

export const orders = implement(Orders, { stores: [Order], publishes: [OrderPlaced, OrderShipped] }).handlers({
  place: handler({ updates: [Order], publishes: [OrderPlaced] }, async ({ id }, ctx) => {
    await ctx.transaction(async (store) => {
      await store.orders.insert({ id });
      await ctx.publish(OrderPlaced, { orderId: id, total: 10 }, { key: id });
      // @ts-expect-error the payload must match the event's schema
      await ctx.publish(OrderPlaced, { orderId: id, total: '10' }, { key: id });
      // @ts-expect-error OrderShipped is published by the service, but not declared by this handler
      await ctx.publish(OrderShipped, { orderId: id }, { key: id });
    });
    return null;
  }),
});

// A handler without `publishes` cannot publish at all.
export const noPermission = implement(Orders, { stores: [Order], publishes: [OrderPlaced] }).handlers({
  place: handler({ updates: [Order] }, async ({ id }, ctx) => {
    // @ts-expect-error OrderPlaced is not in this handler's publishes
    await ctx.transaction(() => ctx.publish(OrderPlaced, { orderId: id, total: 1 }, { key: id }));
    return null;
  }),
});

// A handler's publishes must be among the service's.
export const undeclaredPublish = implement(Orders, { stores: [Order] }).handlers({
  // @ts-expect-error OrderPlaced is not in the service's publishes
  place: handler({ publishes: [OrderPlaced] }, async () => null),
});

const Notifications = contract('notifications', { ping: rpc({ input: z.object({}), output: z.null() }) });
const Note = table('notes', { key: 'id', schema: z.object({ id: z.string(), orderId: z.string() }) });

// A consumer imports the publisher's event; the subscriber's data is typed from it.
export const notifications = implement(Notifications, { stores: [Note], subscribes: [OrderPlaced] })
  .subscriptions({
    OrderPlaced: subscriber({ updates: [Note] }, async (e, ctx) => {
      await ctx.store.notes.insert({ id: e.id, orderId: e.data.orderId });
      const total: number = e.data.total;
      void total;
      // @ts-expect-error a subscriber cannot write a table it did not declare
      await ctx.store.orders.insert({ id: 'x' });
    }),
  })
  .handlers({ ping: handler({}, () => null) });

// Renaming a field of the publisher's event breaks the subscriber at compile time.
export const afterRename = implement(Notifications, { stores: [Note], subscribes: [OrderPlacedRenamed] })
  .subscriptions({
    OrderPlaced: subscriber({ updates: [Note] }, async (e, ctx) => {
      // @ts-expect-error orderId no longer exists on OrderPlaced
      await ctx.store.notes.insert({ id: e.id, orderId: e.data.orderId });
    }),
  })
  .handlers({ ping: handler({}, () => null) });

// Every subscribed event needs its subscriber, and only subscribed events may have one.
export const missingSubscriber = implement(Notifications, { subscribes: [OrderPlaced, OrderShipped] })
  // @ts-expect-error OrderShipped has no subscriber
  .subscriptions({ OrderPlaced: subscriber({}, () => {}) })
  .handlers({ ping: handler({}, () => null) });

export const strangerSubscriber = implement(Notifications, { subscribes: [OrderPlaced] })
  .subscriptions({
    OrderPlaced: subscriber({}, () => {}),
    // @ts-expect-error OrderShipped is not subscribed
    OrderShipped: subscriber({}, () => {}),
  })
  .handlers({ ping: handler({}, () => null) });

// The harness delivers typed events.
export async function harness(): Promise<void> {
  const t = await testService(notifications);
  await t.deliver(OrderPlaced, { orderId: 'o1', total: 5 }, { key: 'o1' });
  // @ts-expect-error the payload must match the event
  await t.deliver(OrderPlaced, { orderId: 1, total: 5 });
}
