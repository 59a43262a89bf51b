// Two catalog instances (`carrot dev --scale catalog=2`): calls are spread over both, and
// when one is killed with SIGKILL the shop keeps serving: no checkout fails while it is down,
// and it is back in rotation once the supervisor restarted it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkout, plentifulProduct, sleep, startResilientShop, waitFor, type ResilientShop } from './resilience-shop.ts';

const shopApp = join(dirname(fileURLToPath(import.meta.url)), '..', 'app.ts');

describe('resilience: two catalog instances, one killed (real processes)', () => {
  let shop: ResilientShop;
  const catalogCalls = (name: string) => shop.log(name).filter((l) => l.msg === 'call' && l.caller === 'orders').length;

  before(async () => {
    // the shop's own defaults: no resilience settings of the test's
    shop = await startResilientShop(shopApp, ['--scale', 'catalog=2']);
  });
  after(async () => {
    if (shop) assert.equal(await shop.stop(), 0, shop.output());
  });

  it('lists both instances in the registry and balances calls over them', async () => {
    const registry = JSON.parse(readFileSync(join(shop.dataDir, 'registry.json'), 'utf8'));
    const catalog = registry.services.catalog;
    assert.equal(catalog.instances.length, 2);
    assert.equal(catalog.url, catalog.instances[0].url, 'url stays the first instance');
    assert.notEqual(catalog.instances[0].url, catalog.instances[1].url);
    assert.equal(registry.services.orders.instances.length, 1);

    const token = await shop.signIn('balanced');
    const product = await plentifulProduct(shop);
    for (let i = 0; i < 6; i += 1) assert.equal((await checkout(shop, token, product)).status, 'CONFIRMED');
    assert.ok(catalogCalls('catalog') > 0 && catalogCalls('catalog#2') > 0, `orders called both: ${catalogCalls('catalog')} and ${catalogCalls('catalog#2')}`);
  });

  it('keeps every checkout going when one instance is SIGKILLed, and re-admits it after its restart', async (t) => {
    const pid = Number(/^catalog#2\s+\S+\s+ready\s+(\d+)/m.exec(shop.output())?.[1]);
    assert.ok(pid > 0, `the table names catalog#2's pid:\n${shop.output()}`);
    const token = await shop.signIn('survivor');
    // spread over the five fullest products, so no checkout fails for want of stock
    const all = (await shop.api('GET', '/api/products?limit=100')).body.items as Array<{ id: string; stock: number }>;
    const products = all
      .sort((a, b) => b.stock - a.stock)
      .slice(0, 5)
      .map((p) => p.id);
    let n = 0;

    const outcomes: Array<{ status: string; detail: string }> = [];
    let running = true;
    // two shoppers check out back to back while the instance dies and comes back
    const shoppers = [0, 1].map(async () => {
      while (running) {
        outcomes.push(await checkout(shop, token, products[n++ % products.length]!));
        await sleep(50);
      }
    });
    await sleep(1_000);
    process.kill(pid, 'SIGKILL');
    await waitFor('catalog#2 to be restarted', () => (/\[catalog#2\] ready again/.test(shop.output()) ? true : undefined), 40_000);
    const restarted = catalogCalls('catalog#2');
    await waitFor('orders to call the restarted instance again', () => (catalogCalls('catalog#2') > restarted ? true : undefined), 20_000);
    running = false;
    await Promise.all(shoppers);

    // orders took the killed instance out of rotation and put it back once it answered again
    const registry = JSON.parse(readFileSync(join(shop.dataDir, 'registry.json'), 'utf8'));
    const killedUrl = registry.services.catalog.instances[1].url as string;
    // orders' log arrives on its own pipe, possibly after catalog#2's
    const instanceChanges = () =>
      shop
        .log('orders')
        .filter((l) => l.event === 'instance' && l.url === killedUrl)
        .map((l) => (l.ejected ? 'out' : 'in'));
    const changes = await waitFor('orders to log the re-admission', () => (instanceChanges().at(-1) === 'in' ? instanceChanges() : undefined), 5_000).catch(
      () => instanceChanges(),
    );
    assert.equal(changes[0], 'out', `orders ejected ${killedUrl}: ${changes.join(', ')}`);
    assert.equal(changes.at(-1), 'in', `and re-admitted it: ${changes.join(', ')}`);

    const failed = outcomes.filter((o) => o.status !== 'CONFIRMED');
    assert.deepEqual(failed, [], `${failed.length} of ${outcomes.length} checkouts failed`);
    assert.ok(outcomes.length >= 6, `${outcomes.length} checkouts ran across the kill`);
    const ejected = shop.log('orders').filter((l) => l.event === 'retry' && String(l.dependency).startsWith('catalog.')).length;
    t.diagnostic(`${outcomes.length} checkouts across the kill, none failed; ${ejected} catalog calls retried`);
  });
});
