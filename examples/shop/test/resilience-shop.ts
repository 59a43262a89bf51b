// Support for the resilience tests: the shop under `carrot dev` (any app module, any flags),
// its API, its logs, and `carrot faults` against it.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CARROT as carrot, startShop } from './shop-process.ts';

export interface Json {
  // biome-ignore lint/suspicious/noExplicitAny: test reads arbitrary JSON
  [key: string]: any;
}

export interface Answer {
  readonly status: number;
  readonly body: Json;
  readonly headers: Headers;
  readonly ms: number;
}

export interface ResilientShop {
  readonly url: string;
  readonly dataDir: string;
  readonly appFile: string;
  output(): string;
  api(method: string, path: string, body?: unknown, token?: string): Promise<Answer>;
  /** Parsed JSON lines of one process's log (`catalog`, `catalog#2`, `orders`...). */
  log(process: string): Json[];
  /** Runs `carrot faults ...` against this shop. */
  faults(...args: string[]): Promise<string>;
  /** A fresh user's token. */
  signIn(name: string): Promise<string>;
  stop(): Promise<number | null>;
}

/** `carrot dev <appFile> [args]` on a free gateway port and a fresh data folder, without the dashboard. */
export async function startResilientShop(appFile: string, args: readonly string[] = [], timeoutMs = 90_000): Promise<ResilientShop> {
  const shop = await startShop(['--no-dashboard', ...args], timeoutMs, appFile);
  const { url, dataDir } = shop;
  const api = async (method: string, path: string, body?: unknown, token?: string): Promise<Answer> => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const started = performance.now();
    const res = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json, headers: res.headers, ms: performance.now() - started };
  };
  return {
    url,
    dataDir,
    appFile,
    output: shop.output,
    api,
    log(name) {
      const file = join(dataDir, 'logs', `${name}.log`);
      if (!existsSync(file)) return [];
      return readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Json);
    },
    async faults(...faultArgs) {
      const { stdout } = await promisify(execFile)(process.execPath, [carrot, 'faults', ...faultArgs, '--app', appFile, '--data-dir', dataDir]);
      return stdout;
    },
    async signIn(name) {
      const email = `${name}-${Date.now()}@example.com`;
      const reg = await api('POST', '/api/users/register', { email, password: 'resilient pass', name });
      if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
      const login = await api('POST', '/api/users/login', { email, password: 'resilient pass' });
      return login.body.token as string;
    },
    stop: () => shop.stop(),
  };
}

/** Waits until `check` returns a value (not undefined), polling; throws with `what` after `ms`. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** The order's final status: checkout answers it, or (when it settles later) the order does. */
export async function checkout(shop: ResilientShop, token: string, productId: string): Promise<{ id: string; status: string; detail: string }> {
  const order = await shop.api('POST', '/api/orders', { items: [{ productId, qty: 1 }] }, token);
  if (order.status !== 201) return { id: '', status: `createOrder ${order.status}`, detail: JSON.stringify(order.body) };
  const id = order.body.id as string;
  const paid = await shop.api('POST', `/api/orders/${id}/checkout`, { card: '4242424242424242' }, token);
  if (paid.status >= 300) return { id, status: `checkout ${paid.status}`, detail: JSON.stringify(paid.body) };
  if (paid.body.status !== 'PENDING') return { id, status: paid.body.status as string, detail: JSON.stringify(paid.body) };
  const settled = await waitFor(`order ${id} to settle`, async () => {
    const got = await shop.api('GET', `/api/orders/${id}`, undefined, token);
    return got.body.status === 'PENDING' ? undefined : got.body;
  });
  return { id, status: settled.status as string, detail: JSON.stringify(settled) };
}

/** The product with the most stock, so many orders of one item each never run out. */
export async function plentifulProduct(shop: ResilientShop): Promise<string> {
  const all = await shop.api('GET', '/api/products?limit=100');
  const items = all.body.items as Array<{ id: string; stock: number }>;
  return items.reduce((a, b) => (b.stock > a.stock ? b : a)).id;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
