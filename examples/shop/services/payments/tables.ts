import { table } from 'carotene';
import { z } from 'zod';

/** One row per idempotency key. The card number is never stored. */
export const PaymentTable = table('payments', {
  key: 'key',
  schema: z.object({
    key: z.string(),
    id: z.string(),
    orderId: z.string(),
    /** Cents. */
    amount: z.number().int(),
    /** VOIDED: refunded before any charge came; the key can no longer charge. */
    status: z.enum(['CHARGED', 'DECLINED', 'REFUNDED', 'VOIDED']),
    createdAt: z.string(),
  }),
  indexes: [
    { columns: ['id'], unique: true },
    { columns: ['orderId'], name: 'payments_order' },
  ],
});
