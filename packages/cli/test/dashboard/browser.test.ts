// The dashboard in Debian's Chromium, against the real shop under `carrot dev`: the
// topology shows every service, the API explorer drives a checkout, which appears as a
// trace with its waterfall, and a dead letter is replayed by clicking.
// CAROTENE_DASHBOARD_SCREENSHOTS=1 also saves each view as docs/images/dashboard-<view>.png.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  browserMissing,
  CARROT,
  launchChromium,
  screenshotDir,
  servicePid,
  SHOP_DIR,
  startShopWithDashboard,
  type ShopWithDashboard,
} from './browser-support.ts';
import { checkoutExports } from './otlp-fixture.ts';

const SERVICES = ['users', 'catalog', 'orders', 'payments', 'notifications', 'gateway'];
const skip = browserMissing();
if (skip) console.log(`# ${skip}`);

describe('the dashboard in Chromium', { skip: skip ?? false, timeout: 150_000 }, () => {
  let shop: ShopWithDashboard;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  let faultFile = '';
  let token = '';
  let checkoutShot = false;
  const shots = screenshotDir();
  const shot = async (view: string) => {
    if (shots) await page.screenshot({ path: join(shots, `dashboard-${view}.png`) });
  };

  before(async () => {
    faultFile = join(process.env.TMPDIR ?? '/tmp', `carotene-dashboard-fault-${process.pid}`);
    // a subscriber that fails while this file exists; two attempts before the dead letters
    [shop, browser] = await Promise.all([
      startShopWithDashboard({ SHOP_NOTIFICATIONS_FAULT_FILE: faultFile, CAROTENE_EVENTS_MAX_ATTEMPTS: '2' }),
      launchChromium(),
    ]);
    page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.setDefaultTimeout(30_000);
  });
  after(async () => {
    rmSync(faultFile, { force: true });
    await browser?.close();
    const code = await shop?.stop();
    assert.equal(code, 0, shop?.output());
  });

  it('shows every shop service in the topology, coloured by health, with the declared calls and events', async () => {
    await page.goto(shop.dashboard);
    for (const name of SERVICES) await page.waitForSelector(`[data-node="${name}"][data-health="healthy"]`);
    assert.equal(await page.locator('#app-health').getAttribute('data-health'), 'healthy');
    assert.equal(await page.locator('.edge-call[data-from="orders"][data-to="catalog"]').count(), 1);
    assert.equal(await page.locator('.edge-call[data-from="orders"][data-to="payments"]').count(), 1);
    assert.equal(await page.locator('.edge-event[data-from="orders"][data-to="notifications"]').count(), 1);
    await page.click('[data-node="orders"]');
    const details = await page.locator('#node-details').innerText();
    assert.match(details, /orders\s+healthy/);
    assert.match(details, /https:\/\/127\.0\.0\.1:\d+/, `the instance found through the registry:\n${details}`);
    assert.match(details, /POST \/api\/orders\/:id\/checkout/);
    await page.click('[data-node="orders"]');
  });

  it('follows health live: a frozen service turns unhealthy and back, without a reload', async () => {
    const pid = servicePid('payments', shop.dataDir);
    assert.ok(pid, 'the payments process of this run');
    await page.evaluate(() => Object.assign(globalThis, { sameDocument: true }));
    process.kill(pid, 'SIGSTOP'); // alive but silent: its /ready times out
    try {
      await page.waitForSelector('[data-node="payments"][data-health="unhealthy"]', { timeout: 30_000 });
      assert.equal(await page.locator('#app-health').getAttribute('data-health'), 'degraded');
      assert.match(await page.locator('#node-details').innerText(), /payments\s+unhealthy[\s\S]*0\/1 ready \(timeout\)/);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await page.waitForSelector('[data-node="payments"][data-health="healthy"]', { timeout: 30_000 });
    await page.waitForSelector('#app-health[data-health="healthy"]');
    assert.equal(await page.evaluate(() => (globalThis as { sameDocument?: boolean }).sameDocument), true, 'no reload');
  });

  it('the API explorer signs up, logs in, takes the token and checks out an order through the gateway', async () => {
    const send = async (operation: string, fields: Record<string, string>, status: number) => {
      await page.goto(`${shop.dashboard}/#api/${operation}`);
      await page.waitForSelector(`.op-link.active[data-operation="${operation}"]`);
      for (const [name, value] of Object.entries(fields)) await page.fill(`#operation [data-field="${name}"] :is(input, textarea)`, value);
      await page.click('#send');
      await page.waitForSelector(`#response-status:text-is("${status}")`);
      return JSON.parse(await page.locator('#response-body').innerText()) as Record<string, unknown>;
    };
    const email = `dash-${Date.now()}@shop.test`;
    await send('users.register', { email, password: 'dashboard pw', name: 'Dash' }, 201);
    await send('users.login', { email, password: 'dashboard pw' }, 200);
    await page.click('#use-token');
    token = await page.inputValue('#token');
    assert.match(token, /^ey/);
    const order = await send('orders.createOrder', { items: JSON.stringify([{ productId: 'p_001', qty: 1 }]) }, 201);
    const paid = await send('orders.checkout', { id: String(order.id), card: '4242424242424242' }, 200);
    assert.equal(paid.status, 'CONFIRMED');
    await shot('api');
    // without the token the gateway refuses, and the explorer shows it
    await page.fill('#token', '');
    await send('orders.getOrder', { id: String(order.id) }, 401);
  });

  it('a checkout appears as a trace with its waterfall across the services', async () => {
    await page.goto(`${shop.dashboard}/#traces`);
    // the checkout's trace: rooted at the gateway, through orders to catalog and payments, and the consumer
    const row = page.locator('tr[data-trace][data-root*="checkout"]').first();
    await row.waitFor({ timeout: 30_000 });
    await row.click();
    for (const service of ['gateway', 'orders', 'catalog', 'payments', 'notifications']) {
      await page.waitForSelector(`#waterfall .span-row[data-service="${service}"]`, { timeout: 30_000 });
    }
    await page.locator('#waterfall .span-row[data-service="payments"]').first().click();
    await shot('traces');
    checkoutShot = true;
  });

  it('shows a trace exported over OTLP as a waterfall, nested by parent, with attributes on click', async () => {
    await page.goto(`${shop.dashboard}/#traces`);
    await page.waitForSelector('#trace-list tr[data-trace]');
    await page.evaluate(() => Object.assign(globalThis, { sameDocument: true }));
    // exported while the page is open: the list gains it live
    const { traceId, exports } = checkoutExports();
    for (const e of exports) {
      const res = await fetch(`${shop.dashboard}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(e.body) });
      assert.equal(res.status, 200);
    }
    await page.click(`tr[data-trace="${traceId}"]`);
    assert.equal(await page.evaluate(() => (globalThis as { sameDocument?: boolean }).sameDocument), true, 'no reload');
    await page.waitForSelector('#waterfall .span-row[data-service="notifications"]');
    assert.equal(await page.locator('#waterfall .waterfall-rows .span-row').count(), 8);
    const indent = (service: string, name: string) =>
      page
        .locator(`.span-row[data-service="${service}"][data-name="${name}"] .span-label`)
        .evaluate((el) => parseFloat((el as unknown as { style: { paddingLeft: string } }).style.paddingLeft));
    const [client, server] = [await indent('orders', 'catalog.reserveStock'), await indent('catalog', 'catalog.reserveStock')];
    assert.ok(server > client, `the server span nests under the client span (${server} > ${client})`);
    await page.click('.span-row[data-service="payments"]');
    assert.match(await page.locator('#span-details').innerText(), /payment\.card\s+4242…4242/);
    // the picture of a real checkout is better; this one only when there was none
    if (!checkoutShot) await shot('traces');
  });

  it('replays a dead letter when its Replay button is clicked', async () => {
    writeFileSync(faultFile, 'fail');
    const res = await fetch(`${shop.gateway}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ items: [{ productId: 'p_002', qty: 1 }] }),
    });
    assert.equal(res.status, 201);
    const orderId = String(((await res.json()) as { id: string }).id);
    await page.goto(`${shop.dashboard}/#events`);
    const dead = page.locator('#dead-letters tr[data-dead-letter]', { hasText: orderId });
    await dead.waitFor({ timeout: 30_000 });
    assert.match(await dead.innerText(), /notifications[\s\S]*orders\.OrderPlaced[\s\S]*failing on purpose/);
    const eventId = await dead.getAttribute('data-dead-letter');
    await page.waitForSelector(`tr[data-event="${eventId}"] [data-subscriber="notifications"][data-state="dead"]`);
    await shot('events');

    rmSync(faultFile, { force: true }); // the fix is deployed
    await page.click(`button[data-replay="${eventId}"]`);
    await page.waitForSelector(`tr[data-event="${eventId}"] [data-subscriber="notifications"][data-state="handled"]`, { timeout: 30_000 });
    assert.equal(await page.locator(`#dead-letters tr[data-dead-letter="${eventId}"]`).count(), 0);
    const notifications = await fetch(`${shop.gateway}/api/notifications?limit=50`, { headers: { authorization: `Bearer ${token}` } });
    const items = ((await notifications.json()) as { items: Array<{ orderId: string; kind: string }> }).items;
    assert.deepEqual(
      items.filter((n) => n.orderId === orderId).map((n) => n.kind),
      ['ORDER_PLACED'],
      'the replayed event notified once',
    );

    // the event links to the trace it was published in: the order's creation
    await page.click(`tr[data-event="${eventId}"] .trace-link`);
    await page.waitForSelector('#waterfall .span-row[data-service="orders"]');
    assert.match(await page.locator('#waterfall .waterfall-head h2').innerText(), /POST \/api\/orders/);
  });

  it('shows saga instances with their step history, compensations included', async () => {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const created = await fetch(`${shop.gateway}/api/orders`, { method: 'POST', headers, body: JSON.stringify({ items: [{ productId: 'p_003', qty: 1 }] }) });
    assert.equal(created.status, 201);
    const orderId = String(((await created.json()) as { id: string }).id);
    // a card the simulated provider always declines: the checkout saga compensates
    await fetch(`${shop.gateway}/api/orders/${orderId}/checkout`, { method: 'POST', headers, body: JSON.stringify({ card: '4000000000000002' }) });
    await page.goto(`${shop.dashboard}/#sagas`);
    await page.waitForSelector('#saga-list tr[data-status="completed"]');
    const failed = page.locator(`#saga-list tr[data-saga*="${orderId}"]`);
    await failed.waitFor();
    assert.equal(await failed.getAttribute('data-status'), 'compensated');
    await failed.click();
    await page.waitForSelector('#saga-steps li[data-phase="compensate"][data-status="done"]');
    assert.ok((await page.locator('#saga-steps li[data-phase="run"][data-status="failed"]').count()) >= 1, 'the step that failed');
    assert.match(await page.locator('#saga-detail').innerText(), /failed at/);
    await shot('sagas');
  });

  it('shows request and error rates once the services served traffic', async () => {
    await page.goto(shop.dashboard);
    // the services serve /metrics: two looks later every box carries its rate
    await page.waitForSelector('[data-node="orders"] .node-sub:text-matches("req/s")', { timeout: 30_000 });
    await page.click('[data-node="orders"]');
    assert.match(await page.locator('#node-details').innerText(), /requests\s+\d+\.\d\/s[\s\S]*metrics/);
    await shot('topology');
  });

  it('turns a workload red from its error rate while it stays ready', async () => {
    const faults = (...args: string[]) =>
      spawnSync(process.execPath, [CARROT, 'faults', ...args, '--app', SHOP_DIR, '--data-dir', shop.dataDir], { encoding: 'utf8' });
    assert.equal(faults('add', 'catalog.getProduct', '--error', 'INTERNAL').status, 0);
    try {
      await page.goto(shop.dashboard);
      await page.waitForSelector('[data-node="gateway"][data-health="healthy"]');
      // every product page now fails with 500 at the gateway: many more than the earlier
      // requests still in the 30 s window, so the rate is well over 50 %
      for (let i = 0; i < 30; i++) assert.equal((await fetch(`${shop.gateway}/api/products/p_001`)).status, 500);
      await page.waitForSelector('[data-node="gateway"][data-health="unhealthy"]', { timeout: 30_000 });
      assert.match((await page.locator('[data-node="gateway"] .node-sub').textContent()) ?? '', /^1\/1 ready · .* (?:[5-9]\d|100)% errors$/);
      assert.match(await page.locator('#node-details').innerText(), /gateway\s+unhealthy[\s\S]*\d+% errors over \d+ s/);
    } finally {
      assert.equal(faults('clear').status, 0);
    }
  });

  it('raised no error in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
