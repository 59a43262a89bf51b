// Compile-time guarantees, checked by `tsc` (part of `npm test`). Each `@ts-expect-error`
// marks code that must NOT compile; if a rule breaks, tsc reports the directive as unused.
import { z } from 'zod';
import { contract, handler, implement, isRejection, rpc, subscriber, table, event } from '../../src/index.ts';
import { testService } from '../../../testing/src/index.ts';

// A provider and its contract: the only module consumers import.
const Inventory = contract('inventory', {
  reserveStock: rpc({
    input: z.object({ itemId: z.string(), qty: z.number().int().positive() }),
    output: z.boolean(),
    errors: { OUT_OF_STOCK: 409 },
    idempotent: true,
  }),
});

const Stock = table('stock', { key: 'itemId', schema: z.object({ itemId: z.string(), count: z.number().int() }) });
const Audit = table('audit', { key: 'id', schema: z.object({ id: z.string(), note: z.string() }) });

export const inventory = implement(Inventory, { stores: [Stock, Audit] }).handlers({
  reserveStock: handler({ updates: [Stock], reads: [Audit] }, async ({ itemId, qty }, ctx) => {
    const stock = await ctx.store.stock.get(itemId);
    if (!stock || stock.count < qty) throw ctx.reject('OUT_OF_STOCK', 'Out of stock');
    await ctx.store.stock.update(itemId, { count: stock.count - qty });

    // A table declared only in `reads` cannot be written.
    // @ts-expect-error insert is not on a read handle
    await ctx.store.audit.insert({ id: 'a', note: 'n' });
    // Only declared error codes can be raised.
    // @ts-expect-error 'GONE' is not a declared error of reserveStock
    ctx.reject('GONE', 'no');
    return true;
  }),
});

// The same contract with `itemId` renamed, as if the provider changed it.
const InventoryRenamed = contract('inventory', {
  reserveStock: rpc({ input: z.object({ productId: z.string(), qty: z.number().int() }), output: z.boolean() }),
});

const Orders = contract('orders', {
  checkout: rpc({ input: z.object({ orderId: z.string() }), output: z.object({ ok: z.boolean() }), errors: { FAILED: 409 } }),
});
const Order = table('orders', { key: 'id', schema: z.object({ id: z.string(), status: z.string() }) });

export const orders = implement(Orders, { stores: [Order], integrations: [Inventory] }).handlers({
  checkout: handler({ reads: [Order], calls: [Inventory] }, async ({ orderId }, ctx) => {
    const ok = await ctx.call.inventory.reserveStock({ itemId: orderId, qty: 1 });
    // A handler cannot reach a table it did not declare.
    // @ts-expect-error stock belongs to another service and is not declared here
    void ctx.store.stock;
    // Input is checked against the provider's contract.
    // @ts-expect-error qty must be a number
    await ctx.call.inventory.reserveStock({ itemId: orderId, qty: '1' });
    return { ok };
  }),
});

// Renaming a field in the provider's contract breaks the consumer at compile time.
export const ordersAfterRename = implement(Orders, { integrations: [InventoryRenamed] }).handlers({
  checkout: handler({ calls: [InventoryRenamed] }, async ({ orderId }, ctx) => {
    // @ts-expect-error itemId no longer exists on InventoryRenamed.reserveStock
    const ok = await ctx.call.inventory.reserveStock({ itemId: orderId, qty: 1 });
    return { ok };
  }),
});

// A handler cannot call an integration missing from its `calls`.
export const noCalls = implement(Orders, { integrations: [Inventory] }).handlers({
  checkout: handler({}, async ({ orderId }, ctx) => {
    // @ts-expect-error inventory is not in this handler's calls
    await ctx.call.inventory.reserveStock({ itemId: orderId, qty: 1 });
    return { ok: true };
  }),
});

// A table of the service that the handler did not declare reads as the permission to add.
export const undeclaredTable = implement(Orders, { stores: [Order, Stock], integrations: [Inventory] }).handlers({
  checkout: handler({ reads: [Order] }, async ({ orderId }, ctx) => {
    // @ts-expect-error stock is one of the service's tables, but not in this handler's reads or updates
    await ctx.store.stock.get(orderId);
    await ctx.transaction(async (store) => {
      // @ts-expect-error the same inside a transaction
      await store.stock.find();
    });
    // @ts-expect-error inventory is an integration of the service, but not in this handler's calls
    await ctx.call.inventory.reserveStock({ itemId: orderId, qty: 1 });
    return { ok: (await ctx.store.orders.get(orderId)) !== undefined };
  }),
});

// A subscriber's mistakes read the same way.
const Placed = event('orders', 'Placed', { version: 1, schema: z.object({ orderId: z.string() }) });
export const subscriberMistakes = implement(Inventory, { stores: [Stock, Audit], subscribes: [Placed] })
  .subscriptions({
    Placed: subscriber({ reads: [Audit] }, async (e, ctx) => {
      // @ts-expect-error stock is not in this subscriber's reads or updates
      await ctx.store.stock.get(e.data.orderId);
      // @ts-expect-error audit is only read
      await ctx.store.audit.delete(e.id);
    }),
  })
  .handlers({ reserveStock: handler({}, async () => true) });

// A caller narrows an error by the provider's declared codes.
export const rejections = implement(Orders, { integrations: [Inventory] }).handlers({
  checkout: handler({ calls: [Inventory] }, async ({ orderId }, ctx) => {
    try {
      return { ok: await ctx.call.inventory.reserveStock({ itemId: orderId, qty: 1 }) };
    } catch (err) {
      if (isRejection(err, Inventory.functions.reserveStock, 'OUT_OF_STOCK')) {
        const code: 'OUT_OF_STOCK' = err.code;
        void code;
        return { ok: false };
      }
      if (isRejection(err, Inventory.functions.reserveStock)) {
        // with no code, any declared one
        const code: 'OUT_OF_STOCK' = err.code;
        void code;
      }
      // @ts-expect-error reserveStock declares no 'GONE'
      if (isRejection(err, Inventory.functions.reserveStock, 'GONE')) return { ok: false };
      // @ts-expect-error checkout declares FAILED, reserveStock does not
      if (isRejection(err, Inventory.functions.reserveStock, 'FAILED')) return { ok: false };
      throw err;
    }
  }),
});

// `calls` must be among the service's declared integrations; tables among its stores.
export const undeclaredIntegration = implement(Orders, {}).handlers({
  // @ts-expect-error Inventory is not in the service's integrations
  checkout: handler({ calls: [Inventory] }, async () => ({ ok: true })),
});
export const foreignTable = implement(Orders, { stores: [Order] }).handlers({
  // @ts-expect-error Stock is not one of this service's stores
  checkout: handler({ reads: [Stock] }, async () => ({ ok: true })),
});

// Output must match the contract.
export const wrongOutput = implement(Orders, {}).handlers({
  // @ts-expect-error ok must be a boolean
  checkout: handler({}, async () => ({ ok: 'yes' })),
});

// Every function needs a handler.
// @ts-expect-error checkout is missing
export const missingHandler = implement(Orders, {}).handlers({});

// `auth: 'required'` makes ctx.auth non-optional; otherwise it may be undefined.
export const authTyping = implement(Orders, {}).handlers({
  checkout: handler({ auth: 'optional' }, async (_input, ctx) => {
    // @ts-expect-error ctx.auth may be undefined on an optional route
    return { ok: ctx.auth.sub.length > 0 };
  }),
});

// Mocks are checked against the provider's contract.
export async function mocks(): Promise<void> {
  await testService(orders, { mock: { inventory: { reserveStock: true } } });
  await testService(orders, { mock: { inventory: { reserveStock: (input) => input.qty > 0 } } });
  await testService(orders, {
    mock: {
      inventory: {
        reserveStock: (_input, { reject }) => {
          throw reject('OUT_OF_STOCK');
        },
      },
    },
  });
  // @ts-expect-error reserveStock returns a boolean, not a string
  await testService(orders, { mock: { inventory: { reserveStock: 'yes' } } });
  // @ts-expect-error the mock reads a field the contract does not have
  await testService(orders, { mock: { inventory: { reserveStock: (input) => input.productId === 'x' } } });
  await testService(orders, {
    mock: {
      inventory: {
        reserveStock: (_i, { reject }) => {
          // @ts-expect-error 'GONE' is not an error of reserveStock
          throw reject('GONE');
        },
      },
    },
  });
  // @ts-expect-error payments is not an integration of orders
  await testService(orders, { mock: { payments: {} } });
  // @ts-expect-error given rows must match the table schema
  await testService(orders, { given: { orders: [{ id: 'o1', status: 3 }] } });
}
