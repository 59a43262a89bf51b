import { randomUUID } from 'node:crypto';
import { handler, implement, isCaroteneError, type RowOf } from 'carotene';
import { Payments } from './contract.ts';
import { migrations } from './migrations/index.ts';
import { authorize } from './provider.ts';
import { PaymentTable } from './tables.ts';

type PaymentRow = RowOf<typeof PaymentTable>;

/** The answer the first charge with this key gave. A refund came later; the charge itself went through. */
function firstAnswer(row: PaymentRow) {
  return { paymentId: row.id, status: row.status === 'DECLINED' ? ('DECLINED' as const) : ('CHARGED' as const) };
}

export default implement(Payments, {
  stores: [PaymentTable],
  migrations,
}).handlers({
  charge: handler({ updates: [PaymentTable] }, async ({ key, orderId, amount, card }, ctx) => {
    const replay = (row: PaymentRow) => {
      if (row.status === 'VOIDED') throw ctx.reject('KEY_REUSED', `Key '${key}' was voided by a refund before any charge with it arrived`);
      // A key names one payment; the same key for another order or amount is a caller bug.
      if (row.orderId !== orderId || row.amount !== amount) {
        throw ctx.reject('KEY_REUSED', `Key '${key}' was already used for a different payment (order ${row.orderId}, ${row.amount} cents)`);
      }
      return firstAnswer(row);
    };
    const existing = await ctx.store.payments.get(key);
    if (existing) return replay(existing);
    try {
      const row = await ctx.store.payments.insert({
        key,
        id: `pay_${randomUUID()}`,
        orderId,
        amount,
        status: authorize(card),
        createdAt: new Date().toISOString(),
      });
      return firstAnswer(row);
    } catch (err) {
      // A concurrent charge with the same key got there first: its answer is the answer.
      if (!isCaroteneError(err, 'CONFLICT')) throw err;
      const winner = await ctx.store.payments.get(key);
      if (!winner) throw err;
      return replay(winner);
    }
  }),

  refund: handler({ updates: [PaymentTable] }, async ({ key }, ctx) => {
    await ctx.store.payments.modify().set({ status: 'REFUNDED' }).where('key', '=', key).where('status', '=', 'CHARGED').execute();
    const row = await ctx.store.payments.get(key);
    if (!row) {
      // No charge yet, but one may still be on its way (sent before the caller gave up): void the key.
      await ctx.store.payments.insert({ key, id: `void_${randomUUID()}`, orderId: '', amount: 0, status: 'VOIDED', createdAt: new Date().toISOString() });
      return { status: 'VOIDED' };
    }
    return { status: row.status === 'DECLINED' ? 'DECLINED' : row.status === 'VOIDED' ? 'VOIDED' : 'REFUNDED' };
  }),
});
