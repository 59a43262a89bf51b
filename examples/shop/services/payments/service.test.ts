import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { testService } from '@carotene/testing';
import { DECLINED_CARD } from './provider.ts';
import payments from './service.ts';

const GOOD_CARD = '4242424242424242';

let t: Awaited<ReturnType<typeof start>>;
const start = () => testService(payments);
beforeEach(async () => {
  t = await start();
});
afterEach(() => t.close());

test('a good card is charged, and the card number is not stored', async () => {
  const result = await t.call.charge({ key: 'k1', orderId: 'ord_1', amount: 2490, card: GOOD_CARD });
  assert.equal(result.status, 'CHARGED');
  assert.match(result.paymentId, /^pay_/);
  const row = await t.store.payments.get('k1');
  assert.deepEqual({ ...row, createdAt: '' }, { key: 'k1', id: result.paymentId, orderId: 'ord_1', amount: 2490, status: 'CHARGED', createdAt: '' });
  assert.doesNotMatch(JSON.stringify(row), /4242/);
});

test(`card ${DECLINED_CARD} is declined`, async () => {
  const result = await t.call.charge({ key: 'k1', orderId: 'ord_1', amount: 2490, card: DECLINED_CARD });
  assert.equal(result.status, 'DECLINED');
  assert.equal((await t.store.payments.get('k1'))?.status, 'DECLINED');
});

test('a repeated key answers the first result and charges once, even concurrently', async () => {
  const charge = { key: 'k1', orderId: 'ord_1', amount: 2490, card: GOOD_CARD };
  const results = await Promise.all(Array.from({ length: 10 }, () => t.call.charge(charge)));
  assert.equal(new Set(results.map((r) => r.paymentId)).size, 1);
  // Even with another card, the key's first answer stands.
  assert.deepEqual(await t.call.charge({ ...charge, card: DECLINED_CARD }), results[0]);
  assert.equal((await t.store.payments.find({ orderId: 'ord_1' })).length, 1);
});

test('a key reused for a different payment is refused', async () => {
  await t.call.charge({ key: 'k1', orderId: 'ord_1', amount: 2490, card: GOOD_CARD });
  await assert.rejects(t.call.charge({ key: 'k1', orderId: 'ord_1', amount: 9999, card: GOOD_CARD }), { code: 'KEY_REUSED', status: 422 });
  await assert.rejects(t.call.charge({ key: 'k1', orderId: 'ord_2', amount: 2490, card: GOOD_CARD }), { code: 'KEY_REUSED' });
});

test('charge validates card and amount', async () => {
  const ok = { key: 'k1', orderId: 'ord_1', amount: 100, card: GOOD_CARD };
  for (const bad of [{ card: '4242' }, { card: '4242-4242-4242-4242' }, { amount: 0 }, { amount: 10.5 }]) {
    await assert.rejects(t.call.charge({ ...ok, ...bad }), { code: 'INVALID_INPUT' }, JSON.stringify(bad));
  }
  assert.deepEqual(await t.store.payments.find(), []);
});

test('refund gives a charge back once; a replayed charge still answers its first result', async () => {
  const charged = await t.call.charge({ key: 'k1', orderId: 'ord_1', amount: 2490, card: GOOD_CARD });
  assert.deepEqual(await t.call.refund({ key: 'k1' }), { status: 'REFUNDED' });
  assert.deepEqual(await t.call.refund({ key: 'k1' }), { status: 'REFUNDED' });
  assert.equal((await t.store.payments.get('k1'))?.status, 'REFUNDED');
  assert.deepEqual(await t.call.charge({ key: 'k1', orderId: 'ord_1', amount: 2490, card: GOOD_CARD }), charged);
  assert.equal((await t.store.payments.get('k1'))?.status, 'REFUNDED');
});

test('refund of a declined charge changes nothing; of an unknown key, voids it against a late charge', async () => {
  await t.call.charge({ key: 'k1', orderId: 'ord_1', amount: 2490, card: DECLINED_CARD });
  assert.deepEqual(await t.call.refund({ key: 'k1' }), { status: 'DECLINED' });
  assert.equal((await t.store.payments.get('k1'))?.status, 'DECLINED');
  assert.deepEqual(await t.call.refund({ key: 'nope' }), { status: 'VOIDED' });
  assert.deepEqual(await t.call.refund({ key: 'nope' }), { status: 'VOIDED' });
  await assert.rejects(t.call.charge({ key: 'nope', orderId: 'ord_9', amount: 100, card: '4242424242424242' }), { code: 'KEY_REUSED' });
  assert.equal((await t.store.payments.find({ orderId: 'ord_9' })).length, 0, 'the late charge took nothing');
});
