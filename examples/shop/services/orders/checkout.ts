import type { HandlerContext } from 'carotene';
import type { z } from 'zod';
import { CheckoutSaga } from './checkout-saga.ts';
import type { Orders } from './contract.ts';
import { OrderTable } from './tables.ts';

type Checkout = (typeof Orders)['functions']['checkout'];
type Input = z.output<Checkout['input']>;
type Output = z.output<Checkout['output']>;
type Errors = keyof Checkout['errors'] & string;

export const checkoutPermissions = {
  reads: [OrderTable],
  sagas: [CheckoutSaga],
  route: 'POST /api/orders/:id/checkout',
  auth: 'required',
} as const;

type Ctx = HandlerContext<typeof checkoutPermissions, Errors, undefined>;

/**
 * Settles a pending order through the checkout saga and answers with its outcome. The
 * saga is keyed by the order, so a repeated or concurrent checkout of the same order joins
 * the one that runs instead of starting another.
 */
export async function checkout({ id, card }: Input, ctx: Ctx): Promise<Output> {
  const order = await ctx.store.orders.get(id);
  // Someone else's order does not exist, as far as this caller can tell.
  if (!order || order.userId !== ctx.auth.sub) throw ctx.reject('NOT_FOUND', `No order '${id}'`);
  if (order.status !== 'PENDING') throw ctx.reject('NOT_PENDING', `Order '${id}' is already ${order.status}`);
  await ctx.saga(CheckoutSaga, { orderId: id, card }, { key: id });
  // the saga's last write settled the order: CONFIRMED, or FAILED with its reason
  const settled = (await ctx.store.orders.get(id))!;
  if (settled.status === 'PENDING') throw new Error(`order '${id}' is still PENDING after its checkout saga ended`);
  return settled.reason === null ? { id, status: settled.status } : { id, status: settled.status, reason: settled.reason };
}
