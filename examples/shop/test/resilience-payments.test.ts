// Retries never charge twice: payments.charge answers are lost after the charge went through
// (and some calls fail before it), so orders retries them; every order is charged once.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkout, plentifulProduct, startResilientShop, waitFor, type ResilientShop } from './resilience-shop.ts';

// the shop with up to 6 attempts per charge (resilience-app.ts)
const appFile = join(dirname(fileURLToPath(import.meta.url)), 'resilience-app.ts');
const ORDERS = 4;

describe('resilience: retried payments (real processes)', () => {
  let shop: ResilientShop;

  before(async () => {
    shop = await startResilientShop(appFile);
  });
  after(async () => {
    if (shop) assert.equal(await shop.stop(), 0, shop.output());
  });

  it('retries a charge whose answer was lost, and the payments table holds one charge per order', async (t) => {
    const token = await shop.signIn('payer');
    const product = await plentifulProduct(shop);
    // the first 3 answers are lost after the charge committed, then 2 calls fail before it runs:
    // the first order needs all 6 attempts, the others go through at once
    await shop.faults('add', 'payments.charge', '--drop', '--phase', 'response', '--limit', '3');
    await shop.faults('add', 'payments.charge', '--error', 'UNAVAILABLE', '--limit', '2');
    await waitFor('payments to apply the faults', () => (shop.log('payments').some((l) => l.event === 'faults' && l.faults?.length === 2) ? true : undefined));

    const outcomes = [];
    for (let i = 0; i < ORDERS; i += 1) outcomes.push(await checkout(shop, token, product));
    for (const o of outcomes) assert.equal(o.status, 'CONFIRMED', o.detail);

    const retries = shop.log('orders').filter((l) => l.event === 'retry' && l.dependency === 'payments.charge');
    assert.ok(retries.length >= 5, `orders retried the charge ${retries.length} times (3 lost answers, 2 refusals)`);
    // payments' log lines come on their own pipe and may trail the checkouts' answers
    const charges = () => shop.log('payments').filter((l) => l.handler === 'charge' && l.msg === 'call').length;
    const handled = await waitFor('payments to log the charges', () => (charges() >= ORDERS + 3 ? charges() : undefined), 5_000).catch(() => charges());
    assert.ok(handled >= ORDERS + 3, `payments ran charge ${handled} times for ${ORDERS} orders: the lost answers were charges that went through`);

    const db = new Database(join(shop.dataDir, 'db', 'payments.sqlite'), { readonly: true });
    try {
      const rows = db.prepare('SELECT orderId, status, COUNT(*) AS n FROM payments GROUP BY orderId, status').all() as Array<{
        orderId: string;
        status: string;
        n: number;
      }>;
      for (const o of outcomes) {
        const charges = rows.filter((r) => r.orderId === o.id);
        assert.deepEqual(
          charges.map((r) => [r.status, r.n]),
          [['CHARGED', 1]],
          `order ${o.id}: ${JSON.stringify(charges)}`,
        );
      }
    } finally {
      db.close();
    }
    t.diagnostic(`${retries.length} retries of payments.charge, ${handled} charge calls handled, ${ORDERS} orders charged once each`);
  });
});
