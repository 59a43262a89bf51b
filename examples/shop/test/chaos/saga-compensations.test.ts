// Crash matrix of the checkout saga's compensations: SIGKILL orders before and after each
// compensation (release the stock, refund the payment, mark the order FAILED) and let
// carrot dev restart it; the saga finishes compensating. The refund's compensations come
// from payments being down (SIGSTOP) past the saga's deadline, which also shows the saga
// retrying a participant that is down, and compensating once its deadline passed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertBooks, crashAt, DECLINED, CARD, eventually, sleep, startSagaShop, stepTries, stockedProducts } from './saga-chaos.ts';

const DEADLINE_MS = 5_000;

test('the checkout saga finishes compensating after orders is killed before or after each compensation', { timeout: 170_000 }, async (t) => {
  const s = await startSagaShop({ SHOP_CHECKOUT_TIMEOUT_MS: String(DEADLINE_MS) });
  const log = (line: string) => t.diagnostic(line);
  let stopped: number | undefined;
  const pause = () => {
    stopped = s.pidOf('payments');
    assert.ok(stopped, 'payments runs');
    process.kill(stopped, 'SIGSTOP');
  };
  const resume = () => {
    if (stopped !== undefined) process.kill(stopped, 'SIGCONT');
    stopped = undefined;
  };
  try {
    const initial = await stockedProducts(s, 20);
    const [p1] = [...initial.keys()];
    assert.ok(p1);

    // a declined card: reserve is released, then the order marked FAILED
    for (const point of ['before:compensate-reserve', 'after:compensate-reserve', 'before:compensate-order', 'after:compensate-order']) {
      const id = await s.createOrder([{ productId: p1, qty: 2 }]);
      await crashAt(s, `saga:checkout:${point}`, async () => void s.api('POST', `/api/orders/${id}/checkout`, { card: DECLINED }, s.token));
      assert.equal(await s.settled(id), 'FAILED', `compensated after a crash at ${point}`);
      const step = point.replace(/^.*compensate-/, '');
      const tries = stepTries(s, id, step, 'compensate');
      assert.ok(tries.length >= 2 && tries.at(-1)?.status === 'done', `${step}'s compensation ran again after the crash and succeeded`);
      assert.deepEqual(new Set(tries.map((r) => r.key)), new Set([`checkout/${id}/${step}/compensate`]));
      const [order] = s.query('orders', `select reason from orders where id = '${id}'`);
      assert.equal(order?.reason, 'card declined');
      log(`${point}: crashed, restarted, compensated (${tries.length} tries)`);
    }

    // payments down (stopped) past the deadline: the charge is retried, then compensated; the
    // refund waits for payments too, and orders dies before (then after) it
    for (const point of ['before:compensate-charge', 'after:compensate-charge']) {
      const id = await s.createOrder([{ productId: p1, qty: 1 }]);
      pause();
      const started = Date.now();
      const answer = s.api('POST', `/api/orders/${id}/checkout`, { card: CARD }, s.token);
      if (point.startsWith('after')) {
        // the refund has to go through before the crash after it: let payments back once the saga compensates
        s.arm(`saga:checkout:${point}`);
        await eventually('compensation to start', () =>
          s.query('orders', `select status from carotene_sagas where id = 'checkout/${id}'`)[0]?.status === 'compensating' ? true : undefined,
        );
        resume();
        await crashAt(s, `saga:checkout:${point}`, async () => undefined);
      } else {
        await crashAt(s, `saga:checkout:${point}`, async () => undefined);
        await sleep(1_000);
        resume();
      }
      assert.ok(Date.now() - started >= DEADLINE_MS, 'it kept trying the charge until the deadline');
      assert.equal(await s.settled(id), 'FAILED');
      assert.ok([0, 502, 503, 504].includes((await answer).status) || (await answer).body.status === 'FAILED', 'the checkout did not confirm');
      const [order] = s.query('orders', `select reason from orders where id = '${id}'`);
      assert.equal(order?.reason, 'payment unavailable');
      const charges = stepTries(s, id, 'charge');
      // one try that hung on the stopped process until the deadline, or several that timed out
      assert.ok(charges.length >= 1 && charges.every((c) => c.status !== 'done'), `the charge never completed (${charges.length} tries)`);
      const refunds = stepTries(s, id, 'charge', 'compensate');
      assert.equal(refunds.at(-1)?.status, 'done');
      log(`${point}: payments stopped, deadline passed, crashed, restarted, refunded (${charges.length} charge tries, ${refunds.length} refund tries)`);
    }
    // the late charges that payments handled when it came back were voided or refunded
    await sleep(1_000);
    assertBooks(s, initial);
  } finally {
    resume();
    await s.stop();
  }
});
