// The shop's end-to-end walk, one copy for every process shape: each e2e*.test.ts runs it
// against `carrot dev` started with its own flags, and expects the same answers.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import shopApp from '../app.ts';
import { startShop, type RunningShop } from './shop-process.ts';

interface Json {
  // biome-ignore lint/suspicious/noExplicitAny: test reads arbitrary JSON
  [key: string]: any;
}

/** How `carrot dev` lays the shop out in processes for one run of the walk. */
export interface ShopShape {
  /** Shown in the suite's name, e.g. `one process per service`. */
  readonly title: string;
  /** Extra `carrot dev` arguments, e.g. `['--monolith']`. */
  readonly args: readonly string[];
  /** The processes expected to run (their log files), given the shop's services; the gateway is added. */
  readonly processes: (services: readonly string[]) => readonly string[];
}

/** The whole shop through the gateway: users, catalog, orders, payments, notifications, recommendations. */
export function walkShop(shape: ShopShape): void {
  describe(`shop end to end (carrot dev, ${shape.title})`, () => {
    let shop: RunningShop;
    const api = async (method: string, path: string, body?: unknown, token?: string) => {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (token) headers.authorization = `Bearer ${token}`;
      const res = await fetch(`${shop.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json, requestId: res.headers.get('x-request-id') };
    };

    before(async () => {
      shop = await startShop(shape.args);
    });
    after(async () => {
      if (shop) assert.equal(await shop.stop(), 0, `carrot dev exits cleanly on SIGTERM:\n${shop.output()}`);
    });

    let alice = '';
    let bob = '';
    let confirmedOrder = '';
    let failedOrder = '';
    let togetherOrder = '';
    let productA: Json = {};
    let productB: Json = {};

    it('registers users, refusing duplicates and invalid input', async () => {
      const reg = await api('POST', '/api/users/register', { email: 'Alice@Example.com', password: 'correct horse', name: 'Alice' });
      assert.equal(reg.status, 201, JSON.stringify(reg.body));
      assert.equal(reg.body.email, 'alice@example.com');
      assert.ok(reg.body.id);
      assert.ok(reg.requestId, 'every response carries a request id');
      const dup = await api('POST', '/api/users/register', { email: 'alice@example.com', password: 'another pass', name: 'A2' });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.code, 'EMAIL_TAKEN');
      const bad = await api('POST', '/api/users/register', { email: 'not-an-email', password: 'x', name: '' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'INVALID_INPUT');
      assert.equal((await api('POST', '/api/users/register', { email: 'bob@example.com', password: 'bob password', name: 'Bob' })).status, 201);
    });

    it('logs in and reads the profile with the token', async () => {
      const wrong = await api('POST', '/api/users/login', { email: 'alice@example.com', password: 'wrong password' });
      assert.equal(wrong.status, 401);
      const login = await api('POST', '/api/users/login', { email: 'alice@example.com', password: 'correct horse' });
      assert.equal(login.status, 200);
      alice = login.body.token;
      bob = (await api('POST', '/api/users/login', { email: 'bob@example.com', password: 'bob password' })).body.token;
      const me = await api('GET', '/api/users/me', undefined, alice);
      assert.equal(me.status, 200);
      assert.equal(me.body.name, 'Alice');
      assert.equal((await api('GET', '/api/users/me')).status, 401, 'no token, no profile');
      assert.equal((await api('GET', '/api/users/me', undefined, `${alice}x`)).status, 401, 'a tampered token is refused');
    });

    it('browses products with pagination, search and a product page', async () => {
      const page1 = await api('GET', '/api/products?limit=5');
      assert.equal(page1.status, 200);
      assert.equal(page1.body.items.length, 5);
      assert.ok(page1.body.next);
      const page2 = await api('GET', `/api/products?limit=5&cursor=${encodeURIComponent(page1.body.next)}`);
      assert.equal(page2.body.items.length, 5);
      const ids = new Set([...page1.body.items, ...page2.body.items].map((p: Json) => p.id));
      assert.equal(ids.size, 10, 'pages do not overlap');
      const all = await api('GET', '/api/products?limit=100');
      assert.ok(all.body.items.length >= 15, 'the seed has about 20 products');
      const needle = String(all.body.items[3].name).split(' ')[0]!.toLowerCase();
      const found = await api('GET', `/api/products?q=${encodeURIComponent(needle)}`);
      assert.ok(found.body.items.length >= 1);
      assert.ok(found.body.items.every((p: Json) => String(p.name).toLowerCase().includes(needle)));
      const plentiful = all.body.items.filter((p: Json) => p.stock >= 10);
      productA = (await api('GET', `/api/products/${plentiful[0].id}`)).body;
      productB = (await api('GET', `/api/products/${plentiful[1].id}`)).body;
      assert.equal(productA.id, plentiful[0].id);
      assert.equal((await api('GET', '/api/products/p_missing')).status, 404);
      assert.equal((await api('GET', '/api/products?limit=abc')).status, 400);
    });

    it('creates an order priced by the catalog and confirms it with a good card', async () => {
      const order = await api('POST', '/api/orders', { items: [{ productId: productA.id, qty: 2 }] }, alice);
      assert.equal(order.status, 201, JSON.stringify(order.body));
      assert.equal(order.body.status, 'PENDING');
      assert.equal(order.body.total, productA.price * 2);
      confirmedOrder = order.body.id;
      const paid = await api('POST', `/api/orders/${confirmedOrder}/checkout`, { card: '4242424242424242' }, alice);
      assert.equal(paid.status, 200, JSON.stringify(paid.body));
      assert.equal(paid.body.status, 'CONFIRMED');
    });

    it('recommends products bought together first (from the orders events it was delivered), then those nearest in price, from the Python service', async () => {
      // a second confirmed order holding A with C: C is what A was bought with
      const all = (await api('GET', '/api/products?limit=100')).body.items as Json[];
      const productC = all.find((p) => p.stock >= 10 && p.id !== productA.id && p.id !== productB.id)!;
      const order = await api(
        'POST',
        '/api/orders',
        {
          items: [
            { productId: productA.id, qty: 1 },
            { productId: productC.id, qty: 1 },
          ],
        },
        alice,
      );
      assert.equal(order.status, 201, JSON.stringify(order.body));
      togetherOrder = order.body.id;
      assert.equal((await api('POST', `/api/orders/${order.body.id}/checkout`, { card: '4242424242424242' }, alice)).body.status, 'CONFIRMED');

      // OrderConfirmed reaches the Python service through orders' outbox, after checkout answered
      let recs = await api('GET', `/api/products/${productA.id}/recommendations`);
      for (const until = Date.now() + 15_000; recs.status === 200 && (recs.body.items as Json[])[0]?.id !== productC.id && Date.now() < until; ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        recs = await api('GET', `/api/products/${productA.id}/recommendations`);
      }
      assert.equal(recs.status, 200, JSON.stringify(recs.body));
      const items = recs.body.items as Json[];
      assert.equal(items.length, 4);
      assert.deepEqual(Object.keys(items[0]!).sort(), ['id', 'name', 'price']);
      assert.equal(items[0]!.id, productC.id, 'bought together comes first');
      assert.ok(!items.some((p) => p.id === productA.id), 'never the product itself');
      const rest = items.slice(1).map((p) => Math.abs(p.price - productA.price));
      const others = all.filter((p) => p.id !== productA.id && p.id !== productC.id).map((p) => Math.abs(p.price - productA.price));
      assert.deepEqual(rest, others.sort((a, b) => a - b).slice(0, 3), 'then the nearest in price');

      const missing = await api('GET', '/api/products/p_missing/recommendations');
      assert.equal(missing.status, 404, JSON.stringify(missing.body));
      assert.equal(missing.body.error.code, 'NOT_FOUND');
      assert.equal((await api('GET', `/api/products/${'x'.repeat(65)}/recommendations`)).status, 400);
    });

    it('fails checkout with the declined card and gives the stock back', async () => {
      const order = await api('POST', '/api/orders', { items: [{ productId: productB.id, qty: 3 }] }, alice);
      assert.equal(order.status, 201);
      failedOrder = order.body.id;
      const declined = await api('POST', `/api/orders/${failedOrder}/checkout`, { card: '4000000000000002' }, alice);
      assert.equal(declined.status, 200);
      assert.equal(declined.body.status, 'FAILED');
      assert.match(declined.body.reason, /declined/);
    });

    it('shows each user only their own orders, with status', async () => {
      const mine = await api('GET', `/api/orders/${confirmedOrder}`, undefined, alice);
      assert.equal(mine.status, 200);
      assert.equal(mine.body.status, 'CONFIRMED');
      assert.equal((await api('GET', `/api/orders/${failedOrder}`, undefined, alice)).body.status, 'FAILED');
      assert.equal((await api('GET', `/api/orders/${confirmedOrder}`, undefined, bob)).status, 404, "bob cannot see alice's order");
      assert.equal((await api('GET', `/api/orders/${confirmedOrder}`)).status, 401);
      const again = await api('POST', `/api/orders/${confirmedOrder}/checkout`, { card: '4242424242424242' }, alice);
      assert.equal(again.status, 409, 'a confirmed order cannot be checked out twice');
    });

    it('took stock only for the confirmed order', async () => {
      assert.equal((await api('GET', `/api/products/${productA.id}`)).body.stock, productA.stock - 3);
      assert.equal((await api('GET', `/api/products/${productB.id}`)).body.stock, productB.stock);
    });

    it('tells each user about their order events, and counts units sold, through events', async () => {
      const wait = async (check: () => Promise<boolean>) => {
        for (const until = Date.now() + 15_000; Date.now() < until && !(await check()); ) await new Promise((r) => setTimeout(r, 100));
      };
      const kindsOf = async (token: string) => {
        const res = await api('GET', '/api/notifications', undefined, token);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const label = (id: string) => (id === confirmedOrder ? 'confirmed' : id === togetherOrder ? 'together' : 'failed');
        return res.body.items.map((n: Json) => `${label(n.orderId)}:${n.kind}`).sort();
      };
      await wait(async () => (await kindsOf(alice)).length >= 6);
      assert.deepEqual(await kindsOf(alice), [
        'confirmed:ORDER_CONFIRMED',
        'confirmed:ORDER_PLACED',
        'failed:ORDER_FAILED',
        'failed:ORDER_PLACED',
        'together:ORDER_CONFIRMED',
        'together:ORDER_PLACED',
      ]);
      assert.deepEqual(await kindsOf(bob), [], 'bob placed no orders');
      assert.equal((await api('GET', '/api/notifications')).status, 401);
      const soldOf = async (id: string) => (await api('GET', `/api/products/${id}`)).body.sold as number;
      await wait(async () => (await soldOf(productA.id)) === productA.sold + 3);
      assert.equal(await soldOf(productA.id), productA.sold + 3, 'the catalog counted the confirmed units');
      assert.equal(await soldOf(productB.id), productB.sold, 'a failed order sells nothing');
    });

    it('answers bad requests with JSON errors and keeps serving', async () => {
      const unknown = await api('GET', '/api/nothing-here');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'ROUTE_NOT_FOUND');
      const res = await fetch(`${shop.url}/api/users/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' });
      assert.equal(res.status, 400);
      assert.equal(await oversizedPost(`${shop.url}/api/users/login`, 2 * 1024 * 1024), 413);
      assert.equal((await api('GET', '/api/products?limit=1')).status, 200);
    });

    it('ran the services in the processes this shape asks for', () => {
      const logs = readdirSync(join(shop.dataDir, 'logs')).map((f) => f.replace(/\.log$/, ''));
      assert.deepEqual(logs.sort(), [...shape.processes(shopApp.services.map((s) => s.name)), 'gateway'].sort());
    });

    it('gives every service its own database file holding only its own tables', () => {
      const tablesOf = (service: string) => {
        const file = join(shop.dataDir, 'db', `${service}.sqlite`);
        assert.ok(existsSync(file), `${file} exists`);
        const db = new Database(file, { readonly: true });
        try {
          return (
            db.prepare("select name from sqlite_master where type = 'table' and name not like 'carotene_%' and name not like 'sqlite_%'").all() as {
              name: string;
            }[]
          ).map((r) => r.name);
        } finally {
          db.close();
        }
      };
      const users = tablesOf('users');
      const catalog = tablesOf('catalog');
      const orders = tablesOf('orders');
      const payments = tablesOf('payments');
      const notifications = tablesOf('notifications');
      assert.ok(users.includes('users') && catalog.includes('products') && orders.includes('orders') && payments.includes('payments'));
      assert.ok(notifications.includes('notifications'));
      const all = [...users, ...catalog, ...orders, ...payments, ...notifications];
      assert.equal(new Set(all).size, all.length, `no table appears in two databases: ${all.join(', ')}`);
    });
  });
}

/**
 * The status the gateway answers a body over its limit with, from the request head alone:
 * the head declares `size` bytes, and only the first 64 KiB are sent (they fit the socket's
 * buffers, so the client is never mid-write when the gateway answers and closes).
 */
function oversizedPost(url: string, size: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let status: number | undefined;
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': size } }, (res) => {
      status = res.statusCode;
      res.resume();
      res.on('end', () => {
        req.destroy();
        resolve(status!);
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('no answer in 10 s')));
    req.on('error', (err) => (status === undefined ? reject(err) : resolve(status)));
    req.write(`{"email":"${'x'.repeat(64 * 1024)}`);
  });
}
