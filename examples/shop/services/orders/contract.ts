import { contract, rpc } from 'carotene';
import { z } from 'zod';

const OrderId = z.string().min(1).max(64);

/** Largest order total in cents; what the payments service accepts in one charge. */
export const MAX_TOTAL = 100_000_000;

export const OrderStatus = z.enum(['PENDING', 'CONFIRMED', 'FAILED']);

/**
 * A customer's orders. An order is priced when created and settled by `checkout`, which
 * reserves its stock and charges the card.
 *
 * ```ts
 * const order = await fetch('/api/orders', { method: 'POST', body: JSON.stringify({ items: [{ productId: 'p_001', qty: 1 }] }) });
 * ```
 */
export const Orders = contract('orders', {
  createOrder: rpc({
    input: z.object({
      items: z
        .array(z.object({ productId: z.string().min(1).max(64), qty: z.number().int().min(1).max(100) }))
        .min(1)
        .max(50),
    }),
    output: z.object({ id: z.string(), status: z.literal('PENDING'), total: z.number().int() }),
    errors: { UNKNOWN_PRODUCT: 422, TOTAL_TOO_LARGE: 422 },
  }),
  checkout: rpc({
    input: z.object({ id: OrderId, card: z.string().regex(/^\d{16}$/, 'card must be 16 digits') }),
    output: z.object({ id: z.string(), status: z.enum(['CONFIRMED', 'FAILED']), reason: z.string().optional() }),
    errors: { NOT_FOUND: 404, NOT_PENDING: 409 },
  }),
  getOrder: rpc({
    input: z.object({ id: OrderId }),
    output: z.object({
      id: z.string(),
      status: OrderStatus,
      total: z.number().int(),
      reason: z.string().optional(),
      items: z.array(z.object({ productId: z.string(), name: z.string(), unitPrice: z.number().int(), qty: z.number().int() })),
    }),
    errors: { NOT_FOUND: 404 },
    idempotent: true,
  }),
});
