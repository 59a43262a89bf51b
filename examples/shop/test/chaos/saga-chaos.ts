// Support for the checkout saga's crash tests: a shop under `carrot dev` whose orders
// process kills itself at armed fault points (CAROTENE_CRASH_FILE), an API client, and the
// books the tests hold it to, read straight from each service's SQLite file.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { queryShopDb, shopApi, startShop, type Row, type RunningShop } from '../shop-process.ts';
import { servicePid as pidOf } from '../../../../packages/runtime/test/support/service-pid.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const CARD = '4242424242424242';
export const DECLINED = '4000000000000002';

/** Waits until `check` returns a value; fails with `what` (and the last error) after `ms`. */
export async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(150);
  }
}

export interface SagaShop {
  readonly shop: RunningShop;
  readonly token: string;
  readonly crashFile: string;
  api(method: string, path: string, body?: unknown, token?: string, timeoutMs?: number): Promise<{ status: number; body: Row }>;
  query(service: string, sql: string): Row[];
  pidOf(service: string): number | undefined;
  /** Arms a fault point of the orders process (it fires once). */
  arm(point: string): void;
  armed(): string[];
  createOrder(items: { productId: string; qty: number }[], token?: string): Promise<string>;
  /** Waits until the order's saga ended and the order is settled; returns its status. */
  settled(orderId: string, ms?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts the shop with fault points armable from the test, a short saga lease (a killed
 * runner's instances are adopted within ~2 s of the restart) and `env` for its processes.
 */
export async function startSagaShop(env: Record<string, string> = {}): Promise<SagaShop> {
  const crashFile = join('/tmp', `carotene-crash-${process.pid}-${Date.now()}`);
  writeFileSync(crashFile, '');
  const saved = { ...process.env };
  Object.assign(process.env, { CAROTENE_CRASH_FILE: crashFile, CAROTENE_SAGA_LEASE_MS: '1500', CAROTENE_LOG_LEVEL: 'warn', ...env });
  let shop: RunningShop;
  try {
    shop = await startShop([], 90_000);
  } finally {
    process.env = saved;
  }
  const api = shopApi(shop.url, 20_000);
  const query = (service: string, sql: string): Row[] => queryShopDb(shop.dataDir, service, sql);
  const email = `saga-${Date.now()}@shop.test`;
  assert.equal((await api('POST', '/api/users/register', { email, password: 'saga password', name: 'Saga' })).status, 201);
  const token = String((await api('POST', '/api/users/login', { email, password: 'saga password' })).body.token);
  const self: SagaShop = {
    shop,
    token,
    crashFile,
    api,
    query,
    pidOf: (service) => pidOf(service, shop.dataDir),
    arm(point) {
      writeFileSync(crashFile, [...self.armed(), point].join('\n'));
    },
    armed: () => readFileSync(crashFile, 'utf8').split('\n').filter(Boolean),
    async createOrder(items, as = token) {
      // orders may be restarting: a client retries (a lost answer would be a second order, fine here)
      const created = await eventually('an order', async () => {
        const r = await api('POST', '/api/orders', { items }, as);
        return r.status === 201 ? r : undefined;
      });
      return String(created.body.id);
    },
    async settled(orderId, ms = 60_000) {
      return eventually(
        `order ${orderId} settled`,
        () => {
          const [order] = query('orders', `select status from orders where id = '${orderId}'`);
          const [saga] = query('orders', `select ended_at from carotene_sagas where id = 'checkout/${orderId}'`);
          return order && order.status !== 'PENDING' && saga && saga.ended_at !== null ? String(order.status) : undefined;
        },
        ms,
      );
    },
    async stop() {
      await shop.stop();
    },
  };
  return self;
}

/**
 * The books after the sagas: nothing pending, every saga ended, stock + what is still
 * reserved = initial − confirmed quantities for every product, no money kept for a FAILED
 * order, a charge for every CONFIRMED one.
 */
export function assertBooks(s: SagaShop, initialStock: ReadonlyMap<string, number>): { confirmed: number; failed: number } {
  const orders = s.query('orders', 'select id, status, reason from orders');
  const byId = new Map(orders.map((o) => [String(o.id), o]));
  assert.deepEqual(
    orders.filter((o) => o.status === 'PENDING').map((o) => o.id),
    [],
    'no order left PENDING',
  );
  assert.deepEqual(s.query('orders', 'select id, status from carotene_sagas where ended_at is null'), [], 'every saga ended');
  const confirmedQty = new Map<string, number>();
  for (const r of s.query(
    'orders',
    "select i.productId as p, sum(i.qty) as q from order_items i join orders o on o.id = i.orderId where o.status = 'CONFIRMED' group by i.productId",
  )) {
    confirmedQty.set(String(r.p), Number(r.q));
  }
  const reservations = s.query('catalog', 'select orderId, productId, qty from reservations');
  for (const [product, initial] of initialStock) {
    const [row] = s.query('catalog', `select stock from products where id = '${product}'`);
    const stock = Number(row?.stock);
    assert.ok(stock >= 0, `stock of ${product} never below zero`);
    const heldByUnconfirmed = reservations
      .filter((r) => r.productId === product && byId.get(String(r.orderId))?.status !== 'CONFIRMED')
      .reduce((n, r) => n + Number(r.qty), 0);
    assert.equal(stock + heldByUnconfirmed, initial - (confirmedQty.get(product) ?? 0), `stock + reserved = initial - confirmed for ${product}`);
    assert.equal(heldByUnconfirmed, 0, `no reservation left for an order that is not CONFIRMED (${product})`);
  }
  const payments = s.query('payments', 'select orderId, status from payments');
  for (const o of orders) {
    const paid = payments.filter((p) => p.orderId === o.id && p.status === 'CHARGED');
    if (o.status === 'FAILED') assert.equal(paid.length, 0, `no charge kept for FAILED order ${String(o.id)} (${String(o.reason)})`);
    if (o.status === 'CONFIRMED') assert.equal(paid.length, 1, `CONFIRMED order ${String(o.id)} has its payment`);
  }
  return { confirmed: orders.filter((o) => o.status === 'CONFIRMED').length, failed: orders.filter((o) => o.status === 'FAILED').length };
}

/** Products of the seed with at least `min` in stock, with their stock now. */
export async function stockedProducts(s: SagaShop, min: number): Promise<Map<string, number>> {
  const list = (await s.api('GET', '/api/products?limit=100')).body.items as Row[];
  return new Map(list.filter((p) => Number(p.stock) >= min).map((p) => [String(p.id), Number(p.stock)]));
}

/** Arms `point`, runs `trigger`, and waits until orders died there and came back. */
export async function crashAt(s: SagaShop, point: string, trigger: () => Promise<unknown>): Promise<void> {
  const before = s.pidOf('orders');
  s.arm(point);
  await trigger();
  await eventually(`a crash at ${point}`, () => (!s.armed().includes(point) ? true : undefined), 60_000);
  await eventually(
    'orders restarted',
    () => {
      const now = s.pidOf('orders');
      return now !== undefined && now !== before ? true : undefined;
    },
    60_000,
  );
}

/** One try of a step, as `carotene_saga_steps` recorded it. */
export function stepTries(s: SagaShop, orderId: string, step: string, phase = 'run'): Row[] {
  return s.query(
    'orders',
    `select attempt, status, idempotency_key as key from carotene_saga_steps where saga_id = 'checkout/${orderId}' and step = '${step}' and phase = '${phase}' order by seq`,
  );
}

/**
 * For each step, SIGKILLs orders before it and after it (the participant did the work, the
 * outcome is not yet recorded) during a checkout, lets `carrot dev` restart it, and checks
 * that the saga completed, the step in flight was retried with the same key, and the books.
 */
export async function stepCrashes(steps: readonly string[], log: (line: string) => void): Promise<void> {
  const s = await startSagaShop();
  try {
    const initial = await stockedProducts(s, 20);
    const [p1, p2] = [...initial.keys()];
    assert.ok(p1 && p2, 'the seed has two products with stock');
    for (const step of steps) {
      for (const when of ['before', 'after']) {
        const point = `saga:checkout:${when}:${step}`;
        const id = await s.createOrder([
          { productId: p1, qty: 1 },
          { productId: p2, qty: 2 },
        ]);
        const started = Date.now();
        await crashAt(s, point, async () => void s.api('POST', `/api/orders/${id}/checkout`, { card: CARD }, s.token));
        assert.equal(await s.settled(id), 'CONFIRMED', `the saga completed after a crash at ${point}`);
        const tries = stepTries(s, id, step);
        assert.ok(tries.length >= 2, `${step} was tried again after the crash at ${point}`);
        assert.deepEqual(new Set(tries.map((t) => t.key)), new Set([`checkout/${id}/${step}`]), 'with the same idempotency key');
        assert.equal(tries.at(-1)?.status, 'done');
        log(`${point}: crashed, restarted, completed in ${Date.now() - started} ms (${tries.length} tries of ${step})`);
      }
    }
    // and an order no crash touched, on the same processes
    const last = await s.createOrder([{ productId: p1, qty: 1 }]);
    const answer = await s.api('POST', `/api/orders/${last}/checkout`, { card: CARD }, s.token);
    assert.ok(
      answer.status === 200 ? answer.body.status === 'CONFIRMED' : answer.status === 504,
      `checkout answered ${answer.status} ${JSON.stringify(answer.body)}`,
    );
    assert.equal(await s.settled(last), 'CONFIRMED');
    const books = assertBooks(s, initial);
    assert.equal(books.confirmed, steps.length * 2 + 1);
  } finally {
    await s.stop();
  }
}
