// Shop: a storefront-shaped mix through the gateway for 30 s with logged-in users:
// view a product 10 : list products 3 : create an order 2 : checkout 1.
import { Pool } from 'undici';
import type { Scenario } from '../lib/scenario.ts';
import { ADMIN, login, startShop, type RunningShop } from '../lib/shop.ts';
import { ms, percentile, perSecond } from '../lib/stats.ts';
import { markdownTable } from '../lib/table.ts';

const LIMITS = { inFlight: 32, count: 1_000_000, maxMs: 30_000, users: 12, products: 10 };
const MIX = [
  { route: 'GET /api/products/:id', weight: 10 },
  { route: 'GET /api/products', weight: 3 },
  { route: 'POST /api/orders', weight: 2 },
  { route: 'POST /api/orders/:id/checkout', weight: 1 },
] as const;
type Route = (typeof MIX)[number]['route'];

interface RouteStats {
  samples: number[];
  errors: number;
  firstError?: string;
}

export const shop: Scenario = {
  name: 'shop',
  describe: 'storefront mix through the gateway for 30 s, per-route p50/p99 and errors',
  async run(log) {
    let running: RunningShop | undefined;
    let pool: Pool | undefined;
    try {
      running = await startShop([], 120_000);
      pool = new Pool(running.url, { connections: LIMITS.inFlight, keepAliveTimeout: 30_000 });
      const api = async (method: 'GET' | 'POST', path: string, body?: unknown, token?: string): Promise<{ status: number; json: Record<string, unknown> }> => {
        const headers: Record<string, string> = {};
        if (body !== undefined) headers['content-type'] = 'application/json';
        if (token) headers.authorization = `Bearer ${token}`;
        const res = await pool!.request({ method, path, headers, body: body === undefined ? null : JSON.stringify(body) });
        const text = await res.body.text();
        return { status: res.statusCode, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
      };
      const must = async (what: string, p: Promise<{ status: number; json: Record<string, unknown> }>) => {
        const r = await p;
        if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.json)}`);
        return r.json;
      };

      // stock enough for every order the run can place, and users who are logged in (sign-up and
      // sign-in are rate limited per client at 20 in a burst, so the bench stays under that)
      const admin = await login(running.url, ADMIN.email, ADMIN.password);
      const products: string[] = [];
      for (let i = 0; i < LIMITS.products; i++) {
        const p = await must('create product', api('POST', '/api/products', { name: `Bench product ${i}`, price: 1000 + i, stock: 1_000_000 }, admin));
        products.push(String(p.id));
      }
      const tokens: string[] = [];
      const suffix = Date.now().toString(36);
      for (let i = 0; i < LIMITS.users; i++) {
        const email = `bench${i}-${suffix}@shop.test`;
        await must('register', api('POST', '/api/users/register', { email, password: 'bench password', name: `Bench ${i}` }));
        tokens.push(await login(running.url, email, 'bench password'));
      }
      const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;
      const pending: { id: string; token: string }[] = [];
      const placeOrder = async () => {
        const token = pick(tokens);
        const items = [...new Set(Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => pick(products)))].map((productId) => ({ productId, qty: 1 }));
        const res = await api('POST', '/api/orders', { items }, token);
        if (res.status === 201) pending.push({ id: String(res.json.id), token });
        return res;
      };
      for (let i = 0; i < 50; i++) await placeOrder();

      const ops: Record<Route, () => Promise<{ status: number; json: Record<string, unknown> }>> = {
        'GET /api/products/:id': () => api('GET', `/api/products/${pick(products)}`),
        'GET /api/products': () => api('GET', '/api/products?limit=20'),
        'POST /api/orders': placeOrder,
        'POST /api/orders/:id/checkout': async () => {
          const order = pending.shift();
          if (!order) throw new Error('no order waiting for checkout');
          const res = await api('POST', `/api/orders/${order.id}/checkout`, { card: '4242424242424242' }, order.token);
          // a checkout that answers 200 but did not confirm is a failure too
          return res.status === 200 && res.json.status !== 'CONFIRMED' ? { status: 599, json: res.json } : res;
        },
      };
      const wheel: Route[] = MIX.flatMap((m) => Array.from({ length: m.weight }, () => m.route));
      const stats = new Map<Route, RouteStats>(MIX.map((m) => [m.route, { samples: [], errors: 0 }]));

      // warm up with the same mix, not counted
      await mix(ops, wheel, new Map(MIX.map((m) => [m.route, { samples: [], errors: 0 }])), { inFlight: LIMITS.inFlight, count: 2_000, maxMs: 5_000 });
      log(`shop: ${LIMITS.users} users, ${LIMITS.products} products, ${LIMITS.inFlight} requests in flight for ${LIMITS.maxMs / 1000} s`);
      const elapsed = await mix(ops, wheel, stats, LIMITS);
      const total = [...stats.values()].reduce((n, s) => n + s.samples.length, 0);
      const errors = [...stats.values()].reduce((n, s) => n + s.errors, 0);
      for (const [route, s] of stats) {
        if (s.errors > 0) log(`  ${route}: ${s.errors} errors, first: ${s.firstError}`);
      }
      const rows = [...stats].map(([route, s]) => [
        route,
        String(s.samples.length),
        perSecond((s.samples.length / elapsed) * 1000),
        ms(percentile(s.samples, 50)),
        ms(percentile(s.samples, 99)),
        String(s.errors),
      ]);
      rows.push([
        'all',
        String(total),
        perSecond((total / elapsed) * 1000),
        ms(
          percentile(
            [...stats.values()].flatMap((s) => s.samples),
            50,
          ),
        ),
        ms(
          percentile(
            [...stats.values()].flatMap((s) => s.samples),
            99,
          ),
        ),
        String(errors),
      ]);
      log(`  ${perSecond((total / elapsed) * 1000)} over ${(elapsed / 1000).toFixed(1)} s, ${errors} errors`);
      const firstErrors = [...stats].filter(([, s]) => s.errors > 0).map(([route, s]) => `- ${route}: ${s.firstError}`);
      const body = [
        `The shop under \`carrot dev\` (one process per service and the gateway, SQLite, logs on), driven through the gateway by ${LIMITS.users} logged-in users with ${LIMITS.inFlight} requests in flight for ${LIMITS.maxMs / 1000} s, after a warm-up with the same mix. The mix is view a product 10 : list products 3 : create an order (1 to 3 products) 2 : checkout 1 (reserve stock, charge the card). A request is an error when it is not answered 2xx, or when a checkout does not end CONFIRMED.`,
        '',
        markdownTable(['route', 'requests', 'rate', 'p50', 'p99', 'errors'], rows),
        ...(firstErrors.length > 0 ? ['', 'First error per route:', '', ...firstErrors] : []),
      ].join('\n');
      return {
        heading: 'Shop scenario',
        body,
        summary: [
          {
            measure: 'shop mix, all routes',
            carotene: `${perSecond((total / elapsed) * 1000)}, p99 ${rows.at(-1)![4]}`,
            reference: '',
            ratio: '',
            target: '0 errors',
            met: errors === 0,
          },
        ],
      };
    } finally {
      await pool?.close().catch(() => undefined);
      await running?.stop();
    }
  },
};

async function mix(
  ops: Record<Route, () => Promise<{ status: number; json: Record<string, unknown> }>>,
  wheel: readonly Route[],
  stats: Map<Route, RouteStats>,
  limits: { inFlight: number; count: number; maxMs: number },
): Promise<number> {
  let issued = 0;
  const started = performance.now();
  const stopAt = started + limits.maxMs;
  const worker = async () => {
    while (issued < limits.count && performance.now() < stopAt) {
      const route = wheel[issued++ % wheel.length]!;
      const s = stats.get(route)!;
      const t0 = performance.now();
      try {
        const res = await ops[route]();
        if (res.status >= 300) throw new Error(`${res.status} ${JSON.stringify(res.json).slice(0, 300)}`);
        s.samples.push(performance.now() - t0);
      } catch (err) {
        s.errors++;
        s.firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: limits.inFlight }, worker));
  return performance.now() - started;
}
