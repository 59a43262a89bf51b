import { isRejection, saga, type SagaFailure, type StepContext } from 'carotene';
import { z } from 'zod';
import { Catalog } from '../catalog/contract.ts';
import { Payments } from '../payments/contract.ts';
import { OrderConfirmed, OrderFailed } from './events.ts';
import { OrderItemTable, OrderTable } from './tables.ts';

/** The payment's key at the provider: one charge per order, however often the step is retried. */
export const paymentKey = (orderId: string): string => `order/${orderId}`;

/** How long a checkout may try before it gives everything back (`SHOP_CHECKOUT_TIMEOUT_MS`, default 30 s). */
export const CHECKOUT_TIMEOUT_MS = Number(process.env.SHOP_CHECKOUT_TIMEOUT_MS) || 30_000;

/** The reason a FAILED order gives, from what made the checkout compensate. */
export function failureReason(failure: SagaFailure | undefined): string {
  if (failure?.code === 'SAGA_STEP_FAILED') return failure.message;
  if (failure?.step === 'reserve') return 'catalog unavailable';
  if (failure?.step === 'charge') return 'payment unavailable';
  return 'checkout failed';
}

/**
 * Settles a pending order: reserve its stock, charge the card, confirm it. When a step
 * fails for good (out of stock, card declined) or the checkout runs out of time, what was
 * done is undone in reverse: the payment refunded, the stock released, and the order marked
 * FAILED with a reason. Every step survives a crash of the orders service: it resumes where
 * it stopped, and a repeated call carries the same idempotency key.
 *
 * (The card travels in the saga's input, which is stored until the saga ends: the simulated
 * provider has no card tokens.)
 */
const permissions = {
  calls: [Catalog, Payments],
  updates: [OrderTable],
  reads: [OrderItemTable],
  publishes: [OrderConfirmed, OrderFailed],
} as const;

export const CheckoutSaga = saga('checkout', { input: z.object({ orderId: z.string(), card: z.string() }), ...permissions, timeout: CHECKOUT_TIMEOUT_MS })
  // first, so that its compensation runs last: the order says FAILED once all is given back
  .step('order', {
    // what it reads of the order is kept in the saga's results, typed, for the steps after it
    run: async ({ orderId }, ctx) => {
      const order = await ctx.store.orders.get(orderId);
      if (!order) throw ctx.fail(`no order '${orderId}'`);
      const items = await ctx.store.order_items.find({ orderId });
      return { total: order.total, items: items.map(({ productId, qty }) => ({ productId, qty })) };
    },
    compensate: ({ orderId }, ctx) => settle(ctx, orderId, 'FAILED', failureReason(ctx.failure)),
  })
  .step('reserve', {
    run: async ({ orderId }, ctx) => {
      try {
        return await ctx.call.catalog.reserveStock({ orderId, items: ctx.results.order.items });
      } catch (err) {
        // A refused reservation took nothing: it is all or nothing.
        if (isRejection(err, Catalog.functions.reserveStock, 'OUT_OF_STOCK')) throw ctx.fail('out of stock');
        if (isRejection(err, Catalog.functions.reserveStock, 'UNKNOWN_PRODUCT')) throw ctx.fail('product no longer sold');
        throw err;
      }
    },
    compensate: ({ orderId }, ctx) => ctx.call.catalog.releaseStock({ orderId }),
  })
  .step('charge', {
    run: async ({ orderId, card }, ctx) => {
      const payment = await ctx.call.payments.charge({ key: paymentKey(orderId), orderId, amount: ctx.results.order.total, card });
      // a declined card took no money: nothing to refund
      if (payment.status === 'DECLINED') throw ctx.fail('card declined');
      return payment;
    },
    // refunds the charge, or voids its key when no charge has arrived (one may still be on its way)
    compensate: ({ orderId }, ctx) => ctx.call.payments.refund({ key: paymentKey(orderId) }),
  })
  .step('confirm', {
    run: ({ orderId }, ctx) => settle(ctx, orderId, 'CONFIRMED'),
  });

type SettleContext = StepContext<typeof permissions>;

/**
 * Moves the order out of PENDING and publishes the outcome in the same transaction. Run
 * again after a crash, it finds the order settled already and publishes nothing more.
 */
async function settle(ctx: SettleContext, orderId: string, status: 'CONFIRMED' | 'FAILED', reason?: string): Promise<{ status: string }> {
  return ctx.transaction(async (store) => {
    const result = await store.orders
      .modify()
      .set({ status, reason: reason ?? null, updatedAt: new Date().toISOString() })
      .where('id', '=', orderId)
      .where('status', '=', 'PENDING')
      .executeTakeFirst();
    const order = (await store.orders.get(orderId))!;
    if (result.numUpdatedRows === 0n) {
      if (order.status !== status) throw new Error(`order '${orderId}' is ${order.status}, cannot become ${status}`);
      return { status };
    }
    if (status === 'CONFIRMED') {
      const items = (await store.order_items.find({ orderId })).map(({ productId, qty }) => ({ productId, qty }));
      await ctx.publish(OrderConfirmed, { orderId, userId: order.userId, total: order.total, items }, { key: orderId });
    } else {
      await ctx.publish(OrderFailed, { orderId, userId: order.userId, reason: reason ?? 'failed' }, { key: orderId });
    }
    return { status };
  });
}
