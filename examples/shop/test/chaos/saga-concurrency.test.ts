// The checkout saga under contention and with a participant away for a while, on real
// processes: 200 concurrent checkouts of a product with 50 in stock confirm exactly 50
// orders and never take the stock below zero; payments stopped for a few seconds delays a
// checkout, which then completes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertBooks, CARD, eventually, sleep, startSagaShop, stepTries } from './saga-chaos.ts';

test('200 concurrent checkouts of 50 units confirm exactly 50; a participant back after a pause lets the saga complete', { timeout: 170_000 }, async (t) => {
  const s = await startSagaShop();
  try {
    const admin = String((await s.api('POST', '/api/users/login', { email: 'admin@shop.test', password: 'change-me-admin' })).body.token);
    const product = await s.api('POST', '/api/products', { name: 'Last fifty', price: 1000, stock: 50 }, admin);
    assert.equal(product.status, 201, JSON.stringify(product.body));
    const productId = String(product.body.id);

    const ids: string[] = [];
    for (let batch = 0; batch < 20; batch++) {
      ids.push(...(await Promise.all(Array.from({ length: 10 }, () => s.createOrder([{ productId, qty: 1 }])))));
    }
    t.diagnostic(`200 orders placed`);

    let lowest = 50;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const [row] = s.query('catalog', `select stock from products where id = '${productId}'`);
        lowest = Math.min(lowest, Number(row?.stock));
        await sleep(50);
      }
    })();
    const started = Date.now();
    let first: Awaited<ReturnType<typeof s.api>>[];
    let settled: string[];
    try {
      first = await Promise.all(ids.map((id) => s.api('POST', `/api/orders/${id}/checkout`, { card: CARD }, s.token, 30_000)));
      // a checkout the gateway gave up on (504 on a busy machine) may never have reached orders: the
      // client retries it, which joins the order's saga when one runs (it is keyed by the order)
      await Promise.all(
        ids.map(async (id, i) => {
          let answer = first[i]!;
          for (let tries = 0; answer.status !== 200 && answer.status !== 409 && tries < 10; tries++) {
            answer = await s.api('POST', `/api/orders/${id}/checkout`, { card: CARD }, s.token, 30_000);
          }
          assert.ok(answer.status === 200 || answer.status === 409, `checkout of ${id} answered ${answer.status} ${JSON.stringify(answer.body)}`);
        }),
      );
      settled = await Promise.all(ids.map((id) => s.settled(id, 120_000)));
    } finally {
      watching = false;
      await watcher;
    }
    const ms = Date.now() - started;
    const answered = new Map<string, number>();
    for (const a of first) {
      const what = `${a.status} ${String(a.body.status ?? (a.body.error as { code?: string } | undefined)?.code ?? '')}`;
      answered.set(what, (answered.get(what) ?? 0) + 1);
    }
    t.diagnostic(`200 checkouts settled in ${ms} ms; first HTTP answers: ${JSON.stringify([...answered])}`);

    assert.equal(settled.filter((x) => x === 'CONFIRMED').length, 50, 'exactly the stock was sold');
    assert.equal(settled.filter((x) => x === 'FAILED').length, 150);
    const reasons = s.query('orders', "select reason, count(*) as n from orders where status = 'FAILED' group by reason");
    assert.deepEqual(reasons, [{ reason: 'out of stock', n: 150 }]);
    const [after] = s.query('catalog', `select stock from products where id = '${productId}'`);
    assert.equal(Number(after?.stock), 0);
    assert.ok(lowest >= 0, `stock never went below zero (lowest seen ${lowest})`);
    for (const a of first.filter((x) => x.status === 200))
      assert.ok(a.body.status === 'CONFIRMED' || a.body.reason === 'out of stock', 'a synchronous answer is the outcome');
    assertBooks(s, new Map([[productId, 50]]));

    // payments stopped for 3 s: the checkout waits for it and completes
    const [seeded] = (await s.api('GET', '/api/products?limit=100')).body.items as { id: string; stock: number }[];
    const id = await s.createOrder([{ productId: String(seeded!.id), qty: 1 }]);
    const payments = s.pidOf('payments')!;
    process.kill(payments, 'SIGSTOP');
    const answer = s.api('POST', `/api/orders/${id}/checkout`, { card: CARD }, s.token, 30_000);
    try {
      await eventually('the charge to be tried', () => (stepTries(s, id, 'charge').length > 0 ? true : undefined));
      await sleep(3_000);
    } finally {
      process.kill(payments, 'SIGCONT');
    }
    assert.equal(await s.settled(id), 'CONFIRMED');
    const reply = await answer;
    t.diagnostic(`checkout with payments stopped for 3 s answered ${reply.status} ${JSON.stringify(reply.body)}`);
    assert.equal(s.query('payments', `select count(*) as n from payments where orderId = '${id}' and status = 'CHARGED'`)[0]?.n, 1);
  } finally {
    await s.stop();
  }
});
