import { isCaroteneError, type HandlerContext } from 'carotene';
import type { z } from 'zod';
import { Catalog } from '../catalog/contract.ts';
import { Payments } from '../payments/contract.ts';
import type { Orders } from './contract.ts';
import { OrderConfirmed, OrderFailed } from './events.ts';
import { OrderItemTable, OrderTable } from './tables.ts';

type Checkout = (typeof Orders)['functions']['checkout'];
type Input = z.output<Checkout['input']>;
type Output = z.output<Checkout['output']>;
type Errors = keyof Checkout['errors'] & string;

export const checkoutPermissions = {
  updates: [OrderTable],
  reads: [OrderItemTable],
  calls: [Catalog, Payments],
  publishes: [OrderConfirmed, OrderFailed],
  route: 'POST /api/orders/:id/checkout',
  auth: 'required',
} as const;

type Ctx = HandlerContext<typeof checkoutPermissions, Errors, undefined>;

/** The payment's idempotency key: one charge per order, however often checkout is retried. */
export const paymentKey = (orderId: string): string => `order/${orderId}`;

/**
 * Settles a pending order: reserve its stock, then charge the card; when the charge does not
 * go through, give the stock back. Reserve and charge are idempotent per order, so a checkout
 * that stopped half-way (the order still PENDING) can be repeated safely.
 *
 * The rollback is written by hand here; a durable saga replaces it in a later step.
 */
export async function checkout({ id, card }: Input, ctx: Ctx): Promise<Output> {
  const order = await ctx.store.orders.get(id);
  // Someone else's order does not exist, as far as this caller can tell.
  if (!order || order.userId !== ctx.auth.sub) throw ctx.reject('NOT_FOUND', `No order '${id}'`);
  if (order.status !== 'PENDING') throw ctx.reject('NOT_PENDING', `Order '${id}' is already ${order.status}`);
  const lines = await ctx.store.order_items.find({ orderId: id });

  try {
    await ctx.call.catalog.reserveStock({ orderId: id, items: lines.map(({ productId, qty }) => ({ productId, qty })) });
  } catch (err) {
    // A refused reservation took nothing: it is all or nothing.
    if (isCaroteneError(err, 'OUT_OF_STOCK')) return settle(ctx, id, 'FAILED', 'out of stock');
    if (isCaroteneError(err, 'UNKNOWN_PRODUCT')) return settle(ctx, id, 'FAILED', 'product no longer sold');
    // Unreachable or timed out: the order stays PENDING, and a retry reserves at most once.
    throw err;
  }

  let outcome: 'charged' | 'declined' | 'unavailable';
  try {
    const payment = await ctx.call.payments.charge({ key: paymentKey(id), orderId: id, amount: order.total, card });
    outcome = payment.status === 'CHARGED' ? 'charged' : 'declined';
  } catch (err) {
    ctx.log.warn({ orderId: id, err: String(err) }, 'charge failed');
    outcome = 'unavailable';
  }

  // Settle before undoing: once FAILED, no retry can reuse a refunded charge to confirm the order.
  const settled =
    outcome === 'charged'
      ? await settle(ctx, id, 'CONFIRMED')
      : await settle(ctx, id, 'FAILED', outcome === 'declined' ? 'card declined' : 'payment unavailable');
  // FAILED, by this checkout or by a concurrent one that got there first: give back what was taken.
  if (settled.status === 'FAILED') await undo(ctx, id, { refund: outcome !== 'declined' });
  return settled;
}

/**
 * Moves the order out of PENDING, once, and publishes the outcome in the same transaction;
 * a concurrent checkout that settled it first wins (and published it).
 */
async function settle(ctx: Ctx, id: string, status: 'CONFIRMED' | 'FAILED', reason?: string): Promise<Output> {
  const settled = await ctx.transaction(async (store) => {
    const result = await store.orders
      .modify()
      .set({ status, reason: reason ?? null, updatedAt: new Date().toISOString() })
      .where('id', '=', id)
      .where('status', '=', 'PENDING')
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) return false;
    const order = (await store.orders.get(id))!;
    if (status === 'CONFIRMED') {
      const items = (await store.order_items.find({ orderId: id })).map(({ productId, qty }) => ({ productId, qty }));
      await ctx.publish(OrderConfirmed, { orderId: id, userId: order.userId, total: order.total, items }, { key: id });
    } else {
      await ctx.publish(OrderFailed, { orderId: id, userId: order.userId, reason: reason ?? 'failed' }, { key: id });
    }
    return true;
  });
  if (settled) return reason === undefined ? { id, status } : { id, status, reason };
  const current = await ctx.store.orders.get(id);
  if (!current || current.status === 'PENDING') throw new Error(`order '${id}' could neither be settled nor read back`);
  return current.reason === null ? { id, status: current.status } : { id, status: current.status, reason: current.reason };
}

/**
 * Gives back the stock and, when the charge may have gone through unseen, the money. Both
 * steps are idempotent. A failure here leaves a reservation or a charge behind; it is logged
 * for now (the saga that replaces this retries it).
 */
async function undo(ctx: Ctx, id: string, { refund }: { refund: boolean }): Promise<void> {
  if (refund) {
    await ctx.call.payments.refund({ key: paymentKey(id) }).catch((err: unknown) => {
      // NOT_FOUND: the charge never arrived, so there is nothing to give back.
      if (!isCaroteneError(err, 'NOT_FOUND')) ctx.log.error({ orderId: id, err: String(err) }, 'refund failed; charge left behind');
    });
  }
  await ctx.call.catalog.releaseStock({ orderId: id }).catch((err: unknown) => {
    ctx.log.error({ orderId: id, err: String(err) }, 'release failed; reservation left behind');
  });
}
