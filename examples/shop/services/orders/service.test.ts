import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { testService } from '@carotene/testing';
import orders from './service.ts';

const ann = { auth: { sub: 'usr_ann', roles: [], claims: {} } };
const bob = { auth: { sub: 'usr_bob', roles: [], claims: {} } };

const PRICES: Record<string, { name: string; price: number }> = {
  p_001: { name: 'Ceramic Pour-Over Dripper', price: 2490 },
  p_002: { name: 'Paper Filters (100 pack)', price: 590 },
};

const catalog = {
  getProducts: ({ ids }: { ids: string[] }) => ({
    items: ids.filter((id) => id in PRICES).map((id) => ({ id, ...PRICES[id]!, stock: 100 })),
  }),
};

let t: Awaited<ReturnType<typeof start>> | undefined;
const start = () => testService(orders, { mock: { catalog } });
afterEach(() => t?.close());

test('createOrder prices the lines from the catalog, never from the client', async () => {
  t = await start();
  const order = await t.call.createOrder(
    {
      items: [
        { productId: 'p_001', qty: 2 },
        { productId: 'p_002', qty: 3 },
      ],
    },
    ann,
  );
  assert.deepEqual({ ...order, id: '' }, { id: '', status: 'PENDING', total: 2 * 2490 + 3 * 590 });
  assert.deepEqual(
    t.calls.map((c) => [c.service, c.fn, c.input]),
    [['catalog', 'getProducts', { ids: ['p_001', 'p_002'] }]],
  );

  const stored = await t.call.getOrder({ id: order.id }, ann);
  assert.deepEqual(stored, {
    id: order.id,
    status: 'PENDING',
    total: 6750,
    items: [
      { productId: 'p_001', name: 'Ceramic Pour-Over Dripper', unitPrice: 2490, qty: 2 },
      { productId: 'p_002', name: 'Paper Filters (100 pack)', unitPrice: 590, qty: 3 },
    ],
  });
  assert.equal((await t.store.orders.get(order.id))?.userId, 'usr_ann');
  assert.deepEqual(await t.published(), [
    {
      type: 'orders.OrderPlaced',
      key: order.id,
      data: {
        orderId: order.id,
        userId: 'usr_ann',
        total: 6750,
        items: [
          { productId: 'p_001', qty: 2 },
          { productId: 'p_002', qty: 3 },
        ],
      },
    },
  ]);
});

test('createOrder refuses an unknown product and stores nothing', async () => {
  t = await start();
  await assert.rejects(
    t.call.createOrder(
      {
        items: [
          { productId: 'p_001', qty: 1 },
          { productId: 'p_404', qty: 1 },
        ],
      },
      ann,
    ),
    {
      code: 'UNKNOWN_PRODUCT',
      status: 422,
    },
  );
  assert.deepEqual(await t.store.orders.find(), []);
  assert.deepEqual(await t.store.order_items.find(), []);
  assert.deepEqual(await t.published(), [], 'a refused order announces nothing');
});

test('createOrder validates quantities and the number of lines', async () => {
  t = await start();
  for (const items of [[], [{ productId: 'p_001', qty: 0 }], [{ productId: 'p_001', qty: 101 }], Array(51).fill({ productId: 'p_001', qty: 1 })]) {
    await assert.rejects(t.call.createOrder({ items }, ann), { code: 'INVALID_INPUT' });
  }
});

test('a user sees only their own orders', async () => {
  t = await start();
  const order = await t.call.createOrder({ items: [{ productId: 'p_001', qty: 1 }] }, ann);
  await assert.rejects(t.call.getOrder({ id: order.id }, bob), { code: 'NOT_FOUND', status: 404 });
  await assert.rejects(t.call.getOrder({ id: 'ord_missing' }, ann), { code: 'NOT_FOUND', status: 404 });
});
