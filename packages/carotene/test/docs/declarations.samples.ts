// The code samples of docs/declarations.md, type-checked by `npm run typecheck`; the doc shows
// each region verbatim (checked by doc-samples.test.ts).
import { randomUUID } from 'node:crypto';
import { app, contract, handler, implement, rpc, table, type Migration } from 'carotene';
import { z } from 'zod';

// #region contract
export const Payments = contract('payments', {
  charge: rpc({
    input: z.object({ key: z.string(), orderId: z.string(), amount: z.number().int().positive(), card: z.string().regex(/^\d{16}$/) }),
    output: z.object({ paymentId: z.string(), status: z.enum(['CHARGED', 'DECLINED']) }),
    errors: { KEY_REUSED: 422 }, // domain errors and the HTTP status they map to
    idempotent: true, // safe to repeat
  }),
});
// #endregion contract

// #region table
export const PaymentTable = table('payments', {
  key: 'key',
  schema: z.object({
    key: z.string(),
    id: z.string(),
    orderId: z.string(),
    amount: z.number().int(),
    status: z.enum(['CHARGED', 'DECLINED']),
    createdAt: z.string(),
  }),
  indexes: [{ columns: ['orderId'] }],
});
// #endregion table

const migrations: Record<string, Migration> = {};

// #region implement
export const payments = implement(Payments, { stores: [PaymentTable], migrations }).handlers({
  charge: handler({ updates: [PaymentTable] }, async ({ key, orderId, amount, card }, ctx) => {
    const existing = await ctx.store.payments.get(key);
    if (existing) {
      if (existing.orderId !== orderId || existing.amount !== amount) throw ctx.reject('KEY_REUSED', `key ${key} was used for another charge`);
      return { paymentId: existing.id, status: existing.status };
    }
    const status = card.startsWith('4000') ? 'DECLINED' : 'CHARGED';
    const row = { key, id: `pay_${randomUUID()}`, orderId, amount, status, createdAt: new Date().toISOString() } as const;
    await ctx.store.payments.insert(row);
    return { paymentId: row.id, status };
  }),
});
// #endregion implement

// #region app
export default app({
  name: 'shop',
  services: [payments],
  gateway: { port: 8080 },
});
// #endregion app
