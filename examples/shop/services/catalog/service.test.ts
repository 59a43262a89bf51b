import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { testService } from '@carotene/testing';
import { OrderConfirmed } from '../orders/events.ts';
import catalog from './service.ts';

const product = (id: string, stock: number) => ({ id, name: `Test ${id}`, description: '', price: 1000, stock, createdAt: '2026-01-01T00:00:00.000Z' });

let t: Awaited<ReturnType<typeof start>>;
const start = () => testService(catalog, { given: { products: [product('t_ten', 10), product('t_one', 1)] } });
beforeEach(async () => {
  t = await start();
});
afterEach(() => t.close());

const stockOf = async (id: string) => (await t.store.products.get(id))?.stock;

test('the seed migration opens with twenty products, one of them nearly sold out', async () => {
  const seeded = await t.store.products.query().where('id', 'like', 'p_%').execute();
  assert.equal(seeded.length, 20);
  assert.ok(seeded.every((p) => Number.isInteger(p.price) && p.price > 0));
  assert.equal(await stockOf('p_020'), 3);
});

test('listProducts walks every product once, in id order, page by page', async () => {
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await t.call.listProducts({ limit: 7, cursor });
    assert.ok(page.items.length <= 7);
    seen.push(...page.items.map((p) => p.id));
    cursor = page.next ?? undefined;
    pages++;
  } while (cursor !== undefined);
  assert.equal(pages, 4); // 22 products
  assert.equal(new Set(seen).size, 22);
  assert.deepEqual(seen, [...seen].sort());
});

test('listProducts defaults to 20, coerces a query-string limit, and bounds it', async () => {
  const first = await t.call.listProducts({});
  assert.equal(first.items.length, 20);
  assert.equal(first.next, first.items.at(-1)?.id);
  assert.deepEqual(Object.keys(first.items[0]!).sort(), ['id', 'name', 'price', 'stock']);
  assert.equal((await t.call.listProducts({ limit: '5' as unknown as number })).items.length, 5);
  await assert.rejects(t.call.listProducts({ limit: 101 }), { code: 'INVALID_INPUT' });
  await assert.rejects(t.call.listProducts({ limit: 0 }), { code: 'INVALID_INPUT' });
});

test('listProducts searches names without regard to case', async () => {
  const { items, next } = await t.call.listProducts({ q: 'ESPRESSO' });
  assert.deepEqual(
    items.map((p) => p.name),
    ['House Espresso Blend 1kg', 'Espresso Tamper 58mm', 'Lever Espresso Machine'],
  );
  assert.equal(next, null);
  const paged = await t.call.listProducts({ q: 'espresso', limit: 2 });
  assert.equal(paged.items.length, 2);
  assert.deepEqual(
    (await t.call.listProducts({ q: 'espresso', cursor: paged.next! })).items.map((p) => p.id),
    ['p_020'],
  );
  assert.deepEqual((await t.call.listProducts({ q: 'no such thing' })).items, []);
});

test('getProduct answers details or NOT_FOUND', async () => {
  const kettle = await t.call.getProduct({ id: 'p_003' });
  assert.equal(kettle.name, 'Gooseneck Kettle 1L');
  assert.equal(kettle.price, 4900);
  assert.equal(typeof kettle.description, 'string');
  await assert.rejects(t.call.getProduct({ id: 'p_999' }), { code: 'NOT_FOUND', status: 404 });
});

test('getProducts answers the known ids and leaves the others out', async () => {
  const { items } = await t.call.getProducts({ ids: ['p_002', 'nope', 'p_001', 'p_002'] });
  assert.deepEqual(items.map((p) => p.id).sort(), ['p_001', 'p_002']);
});

test('createProduct and updateProduct', async () => {
  const admin = { auth: { sub: 'usr_admin', roles: ['admin'], claims: {} } };
  const created = await t.call.createProduct({ name: 'Moka Pot', price: 3100, stock: 5 }, admin);
  assert.match(created.id, /^p_/);
  assert.deepEqual({ ...created, id: '' }, { id: '', name: 'Moka Pot', description: '', price: 3100, stock: 5, sold: 0 });
  const updated = await t.call.updateProduct({ id: created.id, price: 2900 }, admin);
  assert.deepEqual(updated, { ...created, price: 2900 });
  await assert.rejects(t.call.updateProduct({ id: 'p_999', price: 1 }, admin), { code: 'NOT_FOUND' });
  await assert.rejects(t.call.createProduct({ name: 'Free', price: -1 }, admin), { code: 'INVALID_INPUT' });
});

test('30 concurrent reservations of one unit on a stock of 10: exactly 10 succeed', async () => {
  const results = await Promise.allSettled(
    Array.from({ length: 30 }, (_, i) => t.call.reserveStock({ orderId: `ord_${i}`, items: [{ productId: 't_ten', qty: 1 }] })),
  );
  const refused = results.filter((r) => r.status === 'rejected');
  assert.equal(results.length - refused.length, 10);
  for (const r of refused) assert.equal(r.reason.code, 'OUT_OF_STOCK');
  assert.equal(await stockOf('t_ten'), 0);
  assert.equal((await t.store.reservations.find({ productId: 't_ten' })).length, 10);
});

test('reserving twice for one order takes the stock once; releasing gives it back once', async () => {
  const items = [
    { productId: 'p_001', qty: 2 },
    { productId: 'p_002', qty: 1 },
  ];
  assert.deepEqual(await t.call.reserveStock({ orderId: 'ord_a', items }), { reserved: true });
  assert.deepEqual(await t.call.reserveStock({ orderId: 'ord_a', items }), { reserved: true });
  assert.deepEqual([await stockOf('p_001'), await stockOf('p_002')], [98, 99]);

  assert.deepEqual(await t.call.releaseStock({ orderId: 'ord_a' }), { released: true });
  assert.deepEqual(await t.call.releaseStock({ orderId: 'ord_a' }), { released: false });
  assert.deepEqual([await stockOf('p_001'), await stockOf('p_002')], [100, 100]);
  assert.deepEqual(await t.store.reservations.find({ orderId: 'ord_a' }), []);
});

test('concurrent repeats of one reservation take the stock once', async () => {
  await Promise.all(Array.from({ length: 5 }, () => t.call.reserveStock({ orderId: 'ord_b', items: [{ productId: 't_ten', qty: 3 }] })));
  assert.equal(await stockOf('t_ten'), 7);
});

test('a reservation is all or nothing', async () => {
  const items = [
    { productId: 'p_001', qty: 1 },
    { productId: 't_one', qty: 2 },
  ];
  await assert.rejects(t.call.reserveStock({ orderId: 'ord_c', items }), { code: 'OUT_OF_STOCK', status: 409 });
  await assert.rejects(
    t.call.reserveStock({
      orderId: 'ord_c',
      items: [
        { productId: 'p_001', qty: 1 },
        { productId: 'p_404', qty: 1 },
      ],
    }),
    {
      code: 'UNKNOWN_PRODUCT',
      status: 422,
    },
  );
  assert.deepEqual([await stockOf('p_001'), await stockOf('t_one')], [100, 1]);
  assert.deepEqual(await t.store.reservations.find({ orderId: 'ord_c' }), []);
});

test('lines naming one product twice reserve their sum', async () => {
  await t.call.reserveStock({
    orderId: 'ord_d',
    items: [
      { productId: 'p_005', qty: 1 },
      { productId: 'p_005', qty: 2 },
    ],
  });
  assert.equal(await stockOf('p_005'), 97);
  assert.deepEqual(
    (await t.store.reservations.find({ orderId: 'ord_d' })).map((r) => r.qty),
    [3],
  );
});

test('counts units sold from OrderConfirmed events, once per event', async () => {
  const confirmed = {
    orderId: 'ord_9',
    userId: 'usr_ann',
    total: 3000,
    items: [
      { productId: 't_ten', qty: 2 },
      { productId: 't_one', qty: 1 },
    ],
  };
  await t.deliver(OrderConfirmed, confirmed, { key: 'ord_9', id: 'evt_1' });
  await t.deliver(OrderConfirmed, confirmed, { key: 'ord_9', id: 'evt_1' });
  await t.deliver(OrderConfirmed, { ...confirmed, orderId: 'ord_10', items: [{ productId: 't_ten', qty: 3 }] }, { key: 'ord_10' });
  assert.equal((await t.call.getProduct({ id: 't_ten' })).sold, 5, 'the redelivered event counted once');
  assert.equal((await t.call.getProduct({ id: 't_one' })).sold, 1);
});
