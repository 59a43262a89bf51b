// A slow catalog: orders' calls time out at their configured deadline, the breaker opens
// after its threshold, later calls fail fast (measured in orders) and the gateway answers
// 503 with Retry-After at once; once the fault is gone the breaker half-opens and closes.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { plentifulProduct, sleep, startResilientShop, waitFor, type Json, type ResilientShop } from './resilience-shop.ts';

const appFile = join(dirname(fileURLToPath(import.meta.url)), 'resilience-app.ts');
const TIMEOUT_MS = 500; // resilience-app.ts: catalog.getProducts
const FAILURES = 3; // resilience-app.ts: the orders → catalog breaker
const HALF_OPEN_AFTER_S = 4; // resilience-app.ts: long enough that the refused calls below all meet an open breaker
/** Calls made while the breaker is open; medians keep a scheduling hiccup on a busy machine from deciding. */
const REFUSED = 9;
const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('resilience: circuit breaker on a slow dependency (real processes)', () => {
  let shop: ResilientShop;
  let token = '';
  let product = '';
  const createOrder = () => shop.api('POST', '/api/orders', { items: [{ productId: product, qty: 1 }] }, token);
  const breakerEvents = () => shop.log('orders').filter((l) => l.event === 'breaker' && l.dependency === 'catalog');

  before(async () => {
    shop = await startResilientShop(appFile);
    token = await shop.signIn('breaker');
    product = await plentifulProduct(shop);
  });
  after(async () => {
    if (shop) assert.equal(await shop.stop(), 0, shop.output());
  });

  it('serves orders while the catalog is healthy', async () => {
    const order = await createOrder();
    assert.equal(order.status, 201, JSON.stringify(order.body));
  });

  it('times out at the configured deadline, opens the breaker after the threshold, then fails fast with 503 and Retry-After', async (t) => {
    const added = await shop.faults('add', 'catalog.getProducts', '--latency', '2000');
    assert.match(added, /latency 2000 ms on catalog\.getProducts/);
    await waitFor('the catalog to apply the fault', () => (shop.log('catalog').some((l) => l.event === 'faults' && l.faults?.length === 1) ? true : undefined));

    for (let i = 0; i < FAILURES; i += 1) {
      const slow = await createOrder();
      assert.equal(slow.status, 504, JSON.stringify(slow.body));
      assert.equal(slow.body.error.code, 'DEADLINE_EXCEEDED');
      // stopped at the 500 ms deadline, not at the catalog's 2 s
      assert.ok(slow.ms >= TIMEOUT_MS - 20 && slow.ms < 1_800, `call ${i + 1} took ${slow.ms.toFixed(0)} ms`);
    }
    await waitFor('the breaker to open', () => (breakerEvents().some((e) => e.to === 'open') ? true : undefined), 5_000);

    const fast: number[] = [];
    for (let i = 0; i < REFUSED; i += 1) {
      const refused = await createOrder();
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.equal(refused.body.error.code, 'UNAVAILABLE');
      const retryAfter = Number(refused.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= HALF_OPEN_AFTER_S, `Retry-After ${refused.headers.get('retry-after')}`);
      // at once: under the 500 ms a timed-out call takes, even on a loaded machine
      assert.ok(refused.ms < TIMEOUT_MS - 50, `the gateway answered in ${refused.ms.toFixed(0)} ms`);
      fast.push(refused.ms);
    }
    assert.ok(median(fast) < 250, `gateway round trips ${fast.map((ms) => ms.toFixed(0)).join(', ')} ms`);
    // measured at the caller: orders' whole createOrder, the failed-fast call to catalog included
    const failedFast = await waitFor('orders to log the refused calls', () => {
      const lines = shop.log('orders').filter((l: Json) => l.handler === 'createOrder' && l.code === 'UNAVAILABLE');
      return lines.length >= REFUSED ? lines.map((l) => l.durationMs as number) : undefined;
    });
    assert.ok(median(failedFast) < 5, `orders failed fast in ${failedFast.join(', ')} ms (median ${median(failedFast)})`);
    t.diagnostic(`fail fast: orders createOrder ${failedFast.join(', ')} ms; gateway round trip ${fast.map((ms) => ms.toFixed(1)).join(', ')} ms`);
  });

  it('half-opens after the pause and closes once the catalog answers again', async () => {
    await shop.faults('clear');
    await waitFor('the catalog to drop the fault', () => (shop.log('catalog').some((l) => l.event === 'faults' && l.faults?.length === 0) ? true : undefined));
    const order = await waitFor(
      'an order to go through the probing breaker',
      async () => {
        const attempt = await createOrder();
        if (attempt.status === 201) return attempt;
        // 503 while open; a 504 only if a probe itself ran out of time on a loaded machine
        assert.ok(attempt.status === 503 || attempt.status === 504, `while open the breaker fails fast: ${attempt.status} ${JSON.stringify(attempt.body)}`);
        await sleep(250);
        return undefined;
      },
      20_000,
    );
    assert.equal(order.body.status, 'PENDING');
    assert.equal((await createOrder()).status, 201);
    // the breaker logs its change on orders' stdout, which can reach this process after the answer did
    const changes = await waitFor('orders to log the breaker closing', () => {
      const seen = breakerEvents().map((e) => `${e.from}>${e.to}`);
      return seen.at(-1) === 'half-open>closed' ? seen : undefined;
    });
    // normally exactly closed>open, open>half-open, half-open>closed; a probe that failed on a
    // loaded machine adds half-open>open, open>half-open before the last one
    assert.deepEqual(changes.slice(0, 2), ['closed>open', 'open>half-open'], changes.join(', '));
    for (const c of changes.slice(2, -1)) assert.ok(['half-open>open', 'open>half-open'].includes(c), changes.join(', '));
  });
});
