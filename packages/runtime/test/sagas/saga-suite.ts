// The saga runner and idempotency keys against one database engine; run by sqlite.test.ts
// and postgres.test.ts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { SAGA_STEPS, SAGAS, IDEMPOTENCY } from '../../src/events/platform-tables.ts';
import type { ServiceRuntime } from '../../src/service/service-runtime.ts';
import type { StoreDriver } from '../../src/store/driver.ts';
import { z } from 'zod';
import { bank, beforeConfirm, BUY_TIMEOUT_MS, FaultyTransport, runService, shop, stock } from './fixture.ts';

/** A fresh store per service name (and the same one again for a restarted service). */
export type OpenStore = (service: string) => Promise<StoreDriver>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export function sagaSuite(name: string, newWorld: () => OpenStore): void {
  describe(name, () => {
    async function world(initialStock = 10) {
      const open = newWorld();
      const transport = new FaultyTransport();
      const stores = { shop: await open('shop'), stock: await open('stock'), bank: await open('bank') };
      const runtimes: ServiceRuntime[] = [];
      const start = async (which: 'shop' | 'stock' | 'bank', store = stores[which]) => {
        const r = await runService(which === 'shop' ? shop : which === 'stock' ? stock : bank, store, transport);
        runtimes.push(r);
        r.sagas?.resume();
        return r;
      };
      await start('stock');
      await start('bank');
      const orders = await start('shop');
      await stores.stock.db.insertInto('items').values({ id: 'widget', stock: initialStock }).execute();
      const meta = () => ({ caller: 'test', requestId: randomUUID(), deadline: Date.now() + 15_000 });
      const w = {
        open,
        transport,
        stores,
        orders,
        start,
        buy: (orderId: string, qty = 1, amount = 100) => orders.invoke('buy', { orderId, qty, amount }, meta()) as Promise<{ sagaId: string; status: string }>,
        buyLater: (orderId: string, qty = 1, amount = 100) => orders.invoke('buyLater', { orderId, qty, amount }, meta()) as Promise<{ sagaId: string }>,
        stockLeft: async () => Number((await stores.stock.db.selectFrom('items').select('stock').executeTakeFirstOrThrow()).stock),
        held: async () => (await stores.stock.db.selectFrom('holds').selectAll().execute()).reduce((n, h) => n + Number(h.qty), 0),
        payments: async () =>
          (await stores.bank.db.selectFrom('payments').selectAll().execute()) as { id: string; orderId: string; amount: number; refunded: number | boolean }[],
        order: async (id: string) =>
          (await stores.shop.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst()) as
            | { status: string; receipt: string | null }
            | undefined,
        instance: async (id: string) =>
          (await stores.shop.db.selectFrom(SAGAS).selectAll().where('id', '=', id).executeTakeFirst()) as Record<string, unknown> | undefined,
        steps: async (id: string) =>
          (await stores.shop.db.selectFrom(SAGA_STEPS).selectAll().where('saga_id', '=', id).orderBy('seq').execute()).map(
            (r) => `${r.phase} ${r.step} #${r.attempt} ${r.status}`,
          ),
        async close() {
          for (const r of runtimes) await r.sagas?.close();
          for (const s of Object.values(stores)) await s.close();
        },
      };
      return w;
    }

    it('runs the steps in order, persists each, and calls with one idempotency key per step', async () => {
      const w = await world();
      try {
        const out = await w.buy('o1', 2, 300);
        assert.deepEqual(out, { sagaId: 'buy/o1', status: 'completed' });
        assert.equal((await w.order('o1'))?.status, 'CONFIRMED');
        // confirm read the results of reserve and pay
        assert.match((await w.order('o1'))?.receipt ?? '', /^pay_\S+ left 8$/);
        assert.equal(await w.stockLeft(), 8);
        assert.deepEqual(
          w.transport.calls.map((c) => `${c.service}.${c.fn} ${c.key}`),
          ['stock.reserve buy/o1/reserve', 'bank.pay buy/o1/pay'],
        );
        assert.deepEqual(await w.steps('buy/o1'), ['run reserve #1 done', 'run pay #1 done', 'run confirm #1 done']);
        const row = await w.instance('buy/o1');
        assert.equal(row?.status, 'completed');
        assert.deepEqual(Object.keys(JSON.parse(String(row?.results)) as object), ['reserve', 'pay', 'confirm']);
        assert.notEqual(row?.ended_at, null);
      } finally {
        await w.close();
      }
    });

    it('compensates the completed steps in reverse when a step fails for good, and not the failed one', async () => {
      const w = await world();
      try {
        const out = await w.buy('o2', 3, 5000);
        assert.equal(out.status, 'compensated');
        assert.deepEqual(await w.steps('buy/o2'), ['run reserve #1 done', 'run pay #1 failed', 'compensate reserve #1 done']);
        assert.equal(await w.stockLeft(), 10, 'the reservation was released');
        assert.equal(await w.held(), 0);
        assert.deepEqual(await w.payments(), [], 'the declined payment left nothing to refund');
        assert.equal((await w.order('o2'))?.status, 'PENDING', 'confirm never ran');
        assert.deepEqual(JSON.parse(String((await w.instance('buy/o2'))?.failure)), { step: 'pay', code: 'SAGA_STEP_FAILED', message: 'card declined' });
        assert.equal(w.transport.calls.at(-1)?.key, 'buy/o2/reserve/compensate');
      } finally {
        await w.close();
      }
    });

    it('a domain error of a participant (out of stock) fails the saga with nothing to compensate', async () => {
      const w = await world(1);
      try {
        assert.equal((await w.buy('o3', 5)).status, 'compensated');
        assert.deepEqual(await w.steps('buy/o3'), ['run reserve #1 failed']);
        assert.equal(await w.stockLeft(), 1);
      } finally {
        await w.close();
      }
    });

    it('retries a step whose answer was lost with the same key: the participant does the work once', async () => {
      const w = await world();
      // the bank charges, then the connection drops, twice; the third try gets the first answer back
      w.transport.faults.set('bank.pay', (n) => (n <= 2 ? 'lose-answer' : undefined));
      w.transport.faults.set('stock.reserve', (n) => (n === 1 ? 'lose-answer' : undefined));
      try {
        assert.equal((await w.buy('o4', 2, 100)).status, 'completed');
        const payments = await w.payments();
        assert.equal(payments.length, 1, 'one payment despite three calls');
        assert.equal(await w.stockLeft(), 8, 'stock taken once despite two calls');
        assert.deepEqual(
          w.transport.calls.map((c) => c.key),
          ['buy/o4/reserve', 'buy/o4/reserve', 'buy/o4/pay', 'buy/o4/pay', 'buy/o4/pay'],
        );
        assert.deepEqual(await w.steps('buy/o4'), [
          'run reserve #1 error',
          'run reserve #2 done',
          'run pay #1 error',
          'run pay #2 error',
          'run pay #3 done',
          'run confirm #1 done',
        ]);
        const keys = await w.stores.bank.db.selectFrom(IDEMPOTENCY).select(['caller', 'fn', 'key', 'outcome']).execute();
        assert.deepEqual(keys, [{ caller: 'shop', fn: 'pay', key: 'buy/o4/pay', outcome: 'ok' }]);
      } finally {
        await w.close();
      }
    });

    it('a participant down past the deadline: the saga compensates, including the step whose outcome is unknown', async () => {
      const w = await world();
      w.transport.faults.set('bank.pay', (n) => (n === 1 ? 'lose-answer' : 'down'));
      try {
        const started = Date.now();
        const { sagaId } = await w.buyLater('o5', 2, 100);
        const row = await eventually('compensation', async () => {
          const r = await w.instance(sagaId);
          return r?.status === 'compensated' ? r : undefined;
        });
        assert.ok(Date.now() - started >= BUY_TIMEOUT_MS - 100, 'it retried until the deadline');
        const failure = JSON.parse(String(row.failure)) as { code: string; message: string };
        assert.equal(failure.code, 'SAGA_TIMEOUT');
        // and why the step never completed
        assert.match(failure.message, /^saga deadline passed before 'pay' completed; last error: UNAVAILABLE bank is down$/);
        const steps = await w.steps(sagaId);
        assert.deepEqual(steps.slice(-2), ['compensate pay #1 done', 'compensate reserve #1 done']);
        const payments = await w.payments();
        assert.equal(payments.length, 1);
        assert.ok(payments[0]!.refunded, 'the charge that went through unseen was refunded');
        assert.equal(await w.stockLeft(), 10);
      } finally {
        await w.close();
      }
    });

    it('a participant refusing with a 4xx-class code is not retried: the saga compensates at once with that cause', async () => {
      const w = await world();
      w.transport.faults.set('bank.pay', () => 'refuse');
      try {
        const started = Date.now();
        assert.equal((await w.buy('o9', 2, 100)).status, 'compensated');
        assert.ok(Date.now() - started < BUY_TIMEOUT_MS / 2, 'it did not wait for the deadline');
        assert.deepEqual(await w.steps('buy/o9'), ['run reserve #1 done', 'run pay #1 failed', 'compensate reserve #1 done']);
        assert.equal(w.transport.calls.filter((c) => c.fn === 'pay').length, 1, 'pay was tried once');
        assert.deepEqual(JSON.parse(String((await w.instance('buy/o9'))?.failure)), {
          step: 'pay',
          code: 'CONFLICT',
          message: 'bank.pay conflicts with a write of another request',
        });
        assert.equal(await w.stockLeft(), 10);
      } finally {
        await w.close();
      }
    });

    it("a validation error of a step's own code is not retried: it compensates at once, that step included, with the real cause", async () => {
      const w = await world();
      beforeConfirm.hook = () => z.object({ receipt: z.string() }).parse({ receipt: 7 });
      try {
        const started = Date.now();
        assert.equal((await w.buy('o10', 1, 100)).status, 'compensated');
        assert.ok(Date.now() - started < BUY_TIMEOUT_MS / 2, 'it did not wait for the deadline');
        // confirm has no compensation; pay and reserve are undone
        assert.deepEqual(await w.steps('buy/o10'), [
          'run reserve #1 done',
          'run pay #1 done',
          'run confirm #1 failed',
          'compensate pay #1 done',
          'compensate reserve #1 done',
        ]);
        const failure = JSON.parse(String((await w.instance('buy/o10'))?.failure)) as { step: string; code: string; message: string };
        assert.deepEqual({ step: failure.step, code: failure.code }, { step: 'confirm', code: 'INVALID_INPUT' });
        assert.match(failure.message, /^step 'confirm' failed validation: receipt: /);
        assert.ok((await w.payments())[0]?.refunded, 'the payment was refunded');
        assert.equal(await w.stockLeft(), 10);
        assert.equal((await w.order('o10'))?.status, 'PENDING', "confirm's transaction rolled back");
      } finally {
        beforeConfirm.hook = undefined;
        await w.close();
      }
    });

    it('retries a compensation until it succeeds', async () => {
      const w = await world();
      w.transport.faults.set('stock.release', (n) => (n <= 3 ? 'down' : undefined));
      try {
        assert.equal((await w.buy('o6', 4, 5000)).status, 'compensated');
        assert.deepEqual(
          (await w.steps('buy/o6')).filter((s) => s.startsWith('compensate')),
          ['compensate reserve #1 error', 'compensate reserve #2 error', 'compensate reserve #3 error', 'compensate reserve #4 done'],
        );
        assert.equal(await w.stockLeft(), 10);
      } finally {
        await w.close();
      }
    });

    it('starting a saga with a key twice joins the first instance', async () => {
      const w = await world();
      try {
        const [a, b] = await Promise.all([
          w.orders.invoke('buy', { orderId: 'o7', qty: 1, amount: 1 }, { caller: 't', requestId: 'r', deadline: Date.now() + 10_000 }).catch((e: unknown) => e),
          w.buyLater('o7x'),
        ]);
        assert.equal((a as { status: string }).status, 'completed');
        assert.ok(b.sagaId.startsWith('buy/'));
        const again = await w.orders.sagas!.start((await import('./fixture.ts')).Buy, { orderId: 'o7', qty: 9, amount: 9 }, { key: 'o7' });
        assert.equal(again, 'buy/o7');
        assert.equal((await w.orders.sagas!.wait(again, Date.now() + 5_000)).status, 'completed');
        assert.equal(w.transport.calls.filter((c) => c.key === 'buy/o7/reserve').length, 1, 'the second start ran nothing');
      } finally {
        await w.close();
      }
    });

    it('resumes an instance whose runner died, re-running the step in flight with the same key', async () => {
      const w = await world();
      try {
        // the dead runner had reserved, then sent the payment (the bank charged) and died before writing its outcome
        await w.stores.shop.db.insertInto('orders').values({ id: 'o8', status: 'PENDING', reason: null }).execute();
        const meta = { caller: 'shop', requestId: 'dead', deadline: Date.now() + 5_000 };
        await w.transport.call('stock', 'reserve', { orderId: 'o8', qty: 1 }, { ...meta, idempotencyKey: 'buy/o8/reserve' });
        await w.transport.call('bank', 'pay', { orderId: 'o8', amount: 50 }, { ...meta, idempotencyKey: 'buy/o8/pay' });
        const now = Date.now();
        await w.stores.shop.db
          .insertInto(SAGAS)
          .values({
            id: 'buy/o8',
            saga: 'buy',
            status: 'running',
            input: JSON.stringify({ orderId: 'o8', qty: 1, amount: 50 }),
            results: JSON.stringify({ reserve: { left: 9 } }),
            step: 1,
            failure: null,
            deadline: now + 60_000,
            lease_owner: 'dead-runner',
            lease_until: now - 1,
            created_at: now,
            updated_at: now,
            ended_at: null,
          })
          .execute();
        await w.stores.shop.db
          .insertInto(SAGA_STEPS)
          .values({
            saga_id: 'buy/o8',
            step: 'pay',
            phase: 'run',
            attempt: 1,
            status: 'started',
            idempotency_key: 'buy/o8/pay',
            output: null,
            error: null,
            started_at: now,
            ended_at: null,
          })
          .execute();
        const row = await eventually('adoption', async () => {
          const r = await w.instance('buy/o8');
          return r?.status === 'completed' ? r : undefined;
        });
        assert.equal((await w.payments()).length, 1, 'the payment was not made twice');
        assert.equal(await w.stockLeft(), 9);
        assert.equal((await w.order('o8'))?.status, 'CONFIRMED');
        // confirm read reserve's result from the stored instance, and pay's from its replayed answer
        const [payment] = await w.payments();
        assert.equal((await w.order('o8'))?.receipt, `${payment!.id} left 9`);
        assert.deepEqual(await w.steps('buy/o8'), ['run pay #1 started', 'run pay #2 done', 'run confirm #1 done']);
        assert.equal(row.lease_owner, null);
      } finally {
        await w.close();
      }
    });

    it('two runners on one database never run the same instance', async () => {
      const w = await world(100);
      try {
        // 20 orphans, then a second replica of shop on the same database: both adopt
        const now = Date.now();
        for (let i = 0; i < 20; i++) {
          await w.stores.shop.db
            .insertInto('orders')
            .values({ id: `r${i}`, status: 'PENDING', reason: null })
            .execute();
          await w.stores.shop.db
            .insertInto(SAGAS)
            .values({
              id: `buy/r${i}`,
              saga: 'buy',
              status: 'running',
              input: JSON.stringify({ orderId: `r${i}`, qty: 1, amount: 10 }),
              results: '{}',
              step: 0,
              failure: null,
              deadline: now + 60_000,
              lease_owner: 'gone',
              lease_until: 0,
              created_at: now,
              updated_at: now,
              ended_at: null,
            })
            .execute();
        }
        const replica = await w.start('shop', await w.open('shop'));
        assert.ok(replica.sagas);
        await eventually('all 20 completed', async () => {
          const rows = await w.stores.shop.db.selectFrom(SAGAS).select('status').where('id', 'like', 'buy/r%').execute();
          return rows.every((r) => r.status === 'completed') ? true : undefined;
        });
        const tries = await w.stores.shop.db.selectFrom(SAGA_STEPS).select(['saga_id', 'step']).where('saga_id', 'like', 'buy/r%').execute();
        assert.equal(tries.length, 60, 'each of the 3 steps of each instance ran exactly once');
        assert.equal(w.transport.calls.filter((c) => c.fn === 'reserve').length, 20);
        assert.equal(await w.stockLeft(), 80);
      } finally {
        await w.close();
      }
    });

    it('refuses at run time what a saga or handler did not declare', async () => {
      const w = await world();
      try {
        const { Buy } = await import('./fixture.ts');
        const stranger = { ...Buy, name: 'buy' } as typeof Buy;
        await assert.rejects(w.orders.sagas!.start(stranger, { orderId: 'x', qty: 1, amount: 1 }), { code: 'PERMISSION_DENIED' });
        await assert.rejects(w.orders.sagas!.start(Buy, { orderId: 'x' }), { code: 'INVALID_INPUT' });
      } finally {
        await w.close();
      }
    });

    it('a keyed call runs once, atomically with its writes; concurrent twins get the first result', async () => {
      const w = await world(100);
      try {
        const meta = (key: string) => ({ caller: 'shop', requestId: randomUUID(), deadline: Date.now() + 10_000, idempotencyKey: key });
        const stockRt = w.transport.runtimes.get('stock')!;
        const answers = await Promise.all(Array.from({ length: 8 }, () => stockRt.invoke('reserve', { orderId: 'k1', qty: 3 }, meta('k1'))));
        assert.equal(new Set(answers.map((a) => JSON.stringify(a))).size, 1, 'every twin got the first answer');
        assert.equal(await w.stockLeft(), 97, 'stock taken once');
        // the same key from another caller is another call
        await stockRt.invoke('reserve', { orderId: 'k1', qty: 3 }, { ...meta('k1'), caller: 'other' });
        assert.equal(await w.stockLeft(), 94);
        // a declared error is the first result too; a failed call leaves no writes behind
        await assert.rejects(stockRt.invoke('reserve', { orderId: 'k2', qty: 1000 }, meta('k2')), { code: 'OUT_OF_STOCK' });
        await w.stores.stock.db.updateTable('items').set({ stock: 5000 }).execute();
        await assert.rejects(stockRt.invoke('reserve', { orderId: 'k2', qty: 1000 }, meta('k2')), { code: 'OUT_OF_STOCK', domain: true });
        assert.equal(await w.stockLeft(), 5000);
        // unkeyed calls are not remembered
        await stockRt.invoke('reserve', { orderId: 'k3', qty: 1 }, { caller: 'shop', requestId: 'x', deadline: Date.now() + 5_000 });
        await stockRt.invoke('reserve', { orderId: 'k3', qty: 1 }, { caller: 'shop', requestId: 'y', deadline: Date.now() + 5_000 });
        assert.equal(await w.stockLeft(), 4998);
      } finally {
        await w.close();
      }
    });
  });
}
