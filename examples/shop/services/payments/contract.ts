import { contract, rpc } from 'carotene';
import { z } from 'zod';

const Key = z.string().min(1).max(128);

/**
 * A simulated card provider. Every charge carries an idempotency key: repeating a key returns
 * the first answer and never charges twice. Card `4000000000000002` is always declined.
 *
 * ```ts
 * await ctx.call.payments.charge({ key: `order/${id}`, orderId: id, amount: 2490, card });
 * ```
 */
export const Payments = contract('payments', {
  charge: rpc({
    input: z.object({
      key: Key,
      orderId: z.string().min(1).max(64),
      /** Cents. */
      amount: z.number().int().positive().max(100_000_000),
      card: z.string().regex(/^\d{16}$/, 'card must be 16 digits'),
    }),
    output: z.object({ paymentId: z.string(), status: z.enum(['CHARGED', 'DECLINED']) }),
    errors: { KEY_REUSED: 422 },
    idempotent: true,
  }),
  /**
   * Gives a charge back. Refunding a declined charge changes nothing and says so. Refunding a
   * key no charge has used yet voids it: a charge that arrives late with it is refused
   * (KEY_REUSED), so an undone payment cannot happen after its undo.
   */
  refund: rpc({
    input: z.object({ key: Key }),
    output: z.object({ status: z.enum(['REFUNDED', 'DECLINED', 'VOIDED']) }),
    idempotent: true,
  }),
});
