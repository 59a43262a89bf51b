import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { testService, type Mocks } from '@carotene/testing';
import type { Catalog } from '../catalog/contract.ts';
import type { Payments } from '../payments/contract.ts';
import { paymentKey } from './checkout-saga.ts';
import orders from './service.ts';

const ann = { auth: { sub: 'usr_ann', roles: [], claims: {} } };
const bob = { auth: { sub: 'usr_bob', roles: [], claims: {} } };
const CARD = '4242424242424242';
const now = '2026-01-01T00:00:00.000Z';

const given = {
  orders: [{ id: 'ord_1', userId: 'usr_ann', status: 'PENDING' as const, total: 5570, reason: null, createdAt: now, updatedAt: now }],
  order_items: [
    { id: 'ord_1/0', orderId: 'ord_1', line: 0, productId: 'p_001', name: 'Dripper', unitPrice: 2490, qty: 2 },
    { id: 'ord_1/1', orderId: 'ord_1', line: 1, productId: 'p_002', name: 'Filters', unitPrice: 590, qty: 1 },
  ],
};

type ShopMocks = Mocks<readonly [typeof Catalog, typeof Payments]>;
const happy = {
  catalog: { reserveStock: { reserved: true }, releaseStock: { released: true } },
  payments: { charge: { paymentId: 'pay_1', status: 'CHARGED' }, refund: { status: 'REFUNDED' } },
} satisfies ShopMocks;

let t: Awaited<ReturnType<typeof start>> | undefined;
const start = (mock: ShopMocks = happy) => testService(orders, { given, mock });
afterEach(() => t?.close());

const called = () => t!.calls.map((c) => `${c.service}.${c.fn}`);
const statusOf = async (id: string) => {
  const row = await t!.store.orders.get(id);
  return { status: row?.status, reason: row?.reason };
};

test('checkout reserves the stock, charges the total and confirms the order', async () => {
  t = await start();
  assert.deepEqual(await t.call.checkout({ id: 'ord_1', card: CARD }, ann), { id: 'ord_1', status: 'CONFIRMED' });
  assert.deepEqual(called(), ['catalog.reserveStock', 'payments.charge']);
  // every step call carries the saga's idempotency key for that step
  assert.deepEqual(
    t.calls.map((c) => c.meta.idempotencyKey),
    ['checkout/ord_1/reserve', 'checkout/ord_1/charge'],
  );
  assert.deepEqual(t.calls[0]!.input, {
    orderId: 'ord_1',
    items: [
      { productId: 'p_001', qty: 2 },
      { productId: 'p_002', qty: 1 },
    ],
  });
  assert.deepEqual(t.calls[1]!.input, { key: paymentKey('ord_1'), orderId: 'ord_1', amount: 5570, card: CARD });
  assert.deepEqual(await statusOf('ord_1'), { status: 'CONFIRMED', reason: null });
  assert.equal((await t.call.getOrder({ id: 'ord_1' }, ann)).status, 'CONFIRMED');
  assert.deepEqual(await t.published(), [
    {
      type: 'orders.OrderConfirmed',
      key: 'ord_1',
      data: {
        orderId: 'ord_1',
        userId: 'usr_ann',
        total: 5570,
        items: [
          { productId: 'p_001', qty: 2 },
          { productId: 'p_002', qty: 1 },
        ],
      },
    },
  ]);
});

test('a declined card fails the order and releases its stock', async () => {
  t = await start({ ...happy, payments: { ...happy.payments, charge: { paymentId: 'pay_1', status: 'DECLINED' } } });
  assert.deepEqual(await t.call.checkout({ id: 'ord_1', card: '4000000000000002' }, ann), {
    id: 'ord_1',
    status: 'FAILED',
    reason: 'card declined',
  });
  assert.deepEqual(called(), ['catalog.reserveStock', 'payments.charge', 'catalog.releaseStock']);
  assert.deepEqual(t.calls[2]!.input, { orderId: 'ord_1' });
  assert.equal(t.calls[2]!.meta.idempotencyKey, 'checkout/ord_1/reserve/compensate');
  assert.deepEqual(await statusOf('ord_1'), { status: 'FAILED', reason: 'card declined' });
  assert.equal((await t.call.getOrder({ id: 'ord_1' }, ann)).reason, 'card declined');
  assert.deepEqual(await t.published(), [{ type: 'orders.OrderFailed', key: 'ord_1', data: { orderId: 'ord_1', userId: 'usr_ann', reason: 'card declined' } }]);
});

test('out of stock fails the order without charging', async () => {
  t = await start({
    ...happy,
    catalog: {
      ...happy.catalog,
      reserveStock: (_input, { reject }) => {
        throw reject('OUT_OF_STOCK', 'sold out');
      },
    },
  });
  assert.deepEqual(await t.call.checkout({ id: 'ord_1', card: CARD }, ann), { id: 'ord_1', status: 'FAILED', reason: 'out of stock' });
  assert.deepEqual(called(), ['catalog.reserveStock']);
  assert.deepEqual(await statusOf('ord_1'), { status: 'FAILED', reason: 'out of stock' });
});

test('payments failing for a while: the charge is retried with the same key and the order confirmed', async () => {
  let failures = 0;
  t = await start({
    ...happy,
    payments: {
      ...happy.payments,
      charge: () => {
        if (++failures <= 2) throw new Error('connection reset');
        return { paymentId: 'pay_1', status: 'CHARGED' };
      },
    },
  });
  assert.deepEqual(await t.call.checkout({ id: 'ord_1', card: CARD }, ann), { id: 'ord_1', status: 'CONFIRMED' });
  assert.deepEqual(called(), ['catalog.reserveStock', 'payments.charge', 'payments.charge', 'payments.charge']);
  assert.deepEqual(new Set(t.calls.slice(1).map((c) => c.meta.idempotencyKey)), new Set(['checkout/ord_1/charge']));
});

test('the catalog being unreachable for a while: the reservation is retried and the order confirmed', async () => {
  let down = 2;
  t = await start({
    ...happy,
    catalog: {
      ...happy.catalog,
      reserveStock: () => {
        if (down-- > 0) throw new Error('connection refused');
        return { reserved: true };
      },
    },
  });
  assert.equal((await t.call.checkout({ id: 'ord_1', card: CARD }, ann)).status, 'CONFIRMED');
  assert.deepEqual(called(), ['catalog.reserveStock', 'catalog.reserveStock', 'catalog.reserveStock', 'payments.charge']);
  assert.deepEqual(await t.published(), [
    {
      type: 'orders.OrderConfirmed',
      key: 'ord_1',
      data: {
        orderId: 'ord_1',
        userId: 'usr_ann',
        total: 5570,
        items: [
          { productId: 'p_001', qty: 2 },
          { productId: 'p_002', qty: 1 },
        ],
      },
    },
  ]);
});

test('a settled order cannot be checked out again', async () => {
  t = await start();
  await t.call.checkout({ id: 'ord_1', card: CARD }, ann);
  await assert.rejects(t.call.checkout({ id: 'ord_1', card: CARD }, ann), { code: 'NOT_PENDING', status: 409 });
  assert.deepEqual(called(), ['catalog.reserveStock', 'payments.charge']);
});

test("another user's order, or a missing one, is NOT_FOUND", async () => {
  t = await start();
  await assert.rejects(t.call.checkout({ id: 'ord_1', card: CARD }, bob), { code: 'NOT_FOUND', status: 404 });
  await assert.rejects(t.call.checkout({ id: 'ord_404', card: CARD }, ann), { code: 'NOT_FOUND', status: 404 });
  assert.deepEqual(called(), []);
  assert.deepEqual(await statusOf('ord_1'), { status: 'PENDING', reason: null });
});

test('checkout validates the card', async () => {
  t = await start();
  await assert.rejects(t.call.checkout({ id: 'ord_1', card: '4242 4242 4242 4242' }, ann), { code: 'INVALID_INPUT' });
});

// Compile-time checks, run by tsc: mocks must answer in their provider's contract shape.
export function mockTypeChecks(): void {
  // @ts-expect-error reserveStock answers { reserved: true }, not a boolean
  void testService(orders, { mock: { catalog: { reserveStock: true } } });
  void testService(orders, {
    mock: {
      payments: {
        charge: (_i, { reject }) => {
          // @ts-expect-error payments declares no such error
          throw reject('INSUFFICIENT_FUNDS');
        },
      },
    },
  });
  // @ts-expect-error orders does not integrate with users
  void testService(orders, { mock: { users: {} } });
}
