// Sagas per second and latency of a 3-step saga (reserve stock → pay → confirm the order,
// each participant its own database, every step call keyed) on SQLite and PostgreSQL, beside
// the same three steps as a Restate workflow (restate-server 1.7 + the TypeScript SDK, each
// step a journaled ctx.run doing the same participant work) measured in the same run.
// Usage: node --import tsx bench/sagas.ts [--sagas 600] [--concurrency 16] [--serial 150] [--no-restate]
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import * as restate from '@restatedev/restate-sdk';
import type { ServiceRuntime } from '../packages/runtime/src/service/service-runtime.ts';
import { openStore, type StoreDriver } from '../packages/runtime/src/store/driver.ts';
import { bank, FaultyTransport, runService, shop, stock } from '../packages/runtime/test/sagas/fixture.ts';
import { loadLine, machineLine } from './lib/machine.ts';
import { percentile } from './lib/stats.ts';

const { values } = parseArgs({
  options: { sagas: { type: 'string' }, concurrency: { type: 'string' }, serial: { type: 'string' }, 'no-restate': { type: 'boolean' } },
});
const TOTAL = Number(values.sagas ?? 600);
const CONCURRENCY = Number(values.concurrency ?? 16);
const SERIAL = Number(values.serial ?? 150);
const PG = process.env.CAROTENE_TEST_PG_URL ?? 'postgres://root@127.0.0.1:5432/test';
const RESTATE_BIN = join(import.meta.dirname, '..', 'node_modules', '@restatedev', 'restate-server-linux-x64', 'bin', 'restate-server');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// the SDK logs every invocation at INFO; the bench prints its own lines
process.env.RESTATE_LOGGING ??= 'ERROR';

// The Restate SDK 1.17 calls Promise.withResolvers (Node 22); this repository runs on Node 20,
// so the bench supplies it (the standard's behaviour, nothing more).
if (!('withResolvers' in Promise)) {
  Object.defineProperty(Promise, 'withResolvers', {
    value<T>() {
      let resolve!: (v: T) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((a, b) => {
        resolve = a;
        reject = b;
      });
      return { promise, resolve, reject };
    },
  });
}

interface Result {
  readonly name: string;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly serialP50: number;
  readonly serialP99: number;
}

interface World {
  readonly orders: ServiceRuntime;
  readonly stock: ServiceRuntime;
  readonly bank: ServiceRuntime;
  readonly shopStore: StoreDriver;
  close(): Promise<void>;
}

async function world(open: (service: string) => Promise<StoreDriver>): Promise<World> {
  const transport = new FaultyTransport();
  const stores = { shop: await open('shop'), stock: await open('stock'), bank: await open('bank') };
  const s = await runService(stock, stores.stock, transport);
  const b = await runService(bank, stores.bank, transport);
  const o = await runService(shop, stores.shop, transport);
  o.sagas?.resume();
  await stores.stock.db.insertInto('items').values({ id: 'widget', stock: 10_000_000 }).execute();
  return {
    orders: o,
    stock: s,
    bank: b,
    shopStore: stores.shop,
    async close() {
      await o.sagas?.close();
      for (const st of Object.values(stores)) await st.close();
    },
  };
}

/** Runs `n` sagas with `concurrency` in flight; returns sagas/s and each one's latency. */
async function load(n: number, concurrency: number, one: (i: number) => Promise<void>): Promise<{ perSecond: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        const start = performance.now();
        await one(i);
        latencies.push(performance.now() - start);
      }
    }),
  );
  return { perSecond: n / ((performance.now() - t0) / 1000), latencies };
}

async function measure(name: string, one: (id: string) => Promise<void>): Promise<Result> {
  const run = randomBytes(3).toString('hex');
  await load(40, 8, (i) => one(`warm-${run}-${i}`));
  const serial = await load(SERIAL, 1, (i) => one(`s-${run}-${i}`));
  const loaded = await load(TOTAL, CONCURRENCY, (i) => one(`c-${run}-${i}`));
  const result = {
    name,
    perSecond: loaded.perSecond,
    p50: percentile(loaded.latencies, 50),
    p99: percentile(loaded.latencies, 99),
    serialP50: percentile(serial.latencies, 50),
    serialP99: percentile(serial.latencies, 99),
  };
  console.log(JSON.stringify(result));
  return result;
}

async function carotene(name: string, open: (service: string) => Promise<StoreDriver>): Promise<Result> {
  const w = await world(open);
  try {
    return await measure(name, async (orderId) => {
      const out = (await w.orders.invoke('buy', { orderId, qty: 1, amount: 10 }, { caller: 'bench', requestId: orderId, deadline: Date.now() + 30_000 })) as {
        status: string;
      };
      if (out.status !== 'completed') throw new Error(`saga ${orderId} ${out.status}`);
    });
  } finally {
    await w.close();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** The same three steps as a Restate service: each step one ctx.run doing the participant's work. */
async function onRestate(open: (service: string) => Promise<StoreDriver>): Promise<Result> {
  const w = await world(open);
  const [ingress, admin, node, pgsql, endpointPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const dir = mkdtempSync(join(tmpdir(), 'bench-restate-'));
  const server: ChildProcess = spawn(RESTATE_BIN, ['--base-dir', dir], {
    stdio: 'ignore',
    env: {
      ...process.env,
      RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingress}`,
      RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${admin}`,
      RESTATE_BIND_ADDRESS: `127.0.0.1:${node}`,
      RESTATE_ADMIN__QUERY_ENGINE__PGSQL_BIND_ADDRESS: `127.0.0.1:${pgsql}`,
      RESTATE_LOG_FILTER: 'warn',
    },
  });
  const meta = (key: string) => ({ caller: 'shop', requestId: key, deadline: Date.now() + 30_000, idempotencyKey: key });
  const checkout = restate.service({
    name: 'checkout',
    handlers: {
      run: async (ctx: restate.Context, input: { orderId: string }) => {
        const { orderId } = input;
        await ctx.run('reserve', () => w.stock.invoke('reserve', { orderId, qty: 1 }, meta(`${orderId}/reserve`)).then(() => undefined));
        await ctx.run('pay', () => w.bank.invoke('pay', { orderId, amount: 10 }, meta(`${orderId}/pay`)).then(() => undefined));
        await ctx.run('confirm', () =>
          w.shopStore.db
            .updateTable('orders')
            .set({ status: 'CONFIRMED' })
            .where('id', '=', orderId)
            .execute()
            .then(() => undefined),
        );
        return 'completed';
      },
    },
  });
  const endpoint = restate.endpoint().bind(checkout);
  const h2 = await import('node:http2');
  const sdkServer = h2.createServer(endpoint.http2Handler());
  await new Promise<void>((r) => sdkServer.listen(endpointPort, '127.0.0.1', r));
  try {
    const until = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${admin}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > until) throw new Error('restate-server did not become healthy in 30 s');
      await sleep(200);
    }
    const reg = await fetch(`http://127.0.0.1:${admin}/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uri: `http://127.0.0.1:${endpointPort}` }),
    });
    if (!reg.ok) throw new Error(`registering the deployment failed: ${reg.status} ${await reg.text()}`);
    // the ingress learns about the deployment shortly after the admin API accepted it
    for (;;) {
      const r = await fetch(`http://127.0.0.1:${ingress}/checkout/run`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ orderId: 'probe' }),
        signal: AbortSignal.timeout(5_000),
      }).catch(() => undefined);
      if (r?.ok) break;
      if (Date.now() > until) throw new Error(`the ingress never accepted checkout/run (${r?.status})`);
      await sleep(200);
    }
    return await measure('Restate 1.7 (3 × ctx.run, SQLite participants)', async (orderId) => {
      await w.shopStore.db.insertInto('orders').values({ id: orderId, status: 'PENDING', reason: null }).execute();
      const r = await fetch(`http://127.0.0.1:${ingress}/checkout/run`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ orderId }),
        signal: AbortSignal.timeout(30_000),
      });
      if (!r.ok) throw new Error(`restate ${r.status} ${await r.text()}`);
      await r.text();
    });
  } finally {
    sdkServer.close();
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
    await w.close();
  }
}

function sqliteOpener(): (service: string) => Promise<StoreDriver> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-sagas-'));
  return (service) => openStore({ file: join(dir, `${service}.sqlite`) });
}

const created: string[] = [];
async function pgOpener(): Promise<(service: string) => Promise<StoreDriver>> {
  const adminDb = await openStore({ url: PG });
  const run = randomBytes(4).toString('hex');
  return async (service) => {
    const database = `bench_saga_${run}_${service}`;
    await sql`create database ${sql.id(database)}`.execute(adminDb.db);
    created.push(database);
    const url = new URL(PG);
    url.pathname = `/${database}`;
    return openStore({ url: url.href });
  };
}

const results: Result[] = [];
results.push(await carotene('Carotene, SQLite', sqliteOpener()));
results.push(await carotene('Carotene, PostgreSQL', await pgOpener()));
if (!values['no-restate']) results.push(await onRestate(sqliteOpener()));

const adminDb = await openStore({ url: PG });
for (const db of created) await sql`drop database if exists ${sql.id(db)} with (force)`.execute(adminDb.db);
await adminDb.close();

const f = (n: number) => n.toFixed(1);
console.log(`\nMachine: ${machineLine()}; ${loadLine()}`);
console.log(`${TOTAL} sagas with ${CONCURRENCY} in flight (sagas/s, p50, p99); ${SERIAL} one at a time (p50, p99)\n`);
console.log(`| engine | sagas/s (${CONCURRENCY} in flight) | p50 | p99 | p50 one at a time | p99 one at a time |`);
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of results)
  console.log(`| ${r.name} | ${Math.round(r.perSecond)} | ${f(r.p50)} ms | ${f(r.p99)} ms | ${f(r.serialP50)} ms | ${f(r.serialP99)} ms |`);
const restateResult = results.find((r) => r.name.startsWith('Restate'));
if (restateResult) {
  const sqlite = results[0]!;
  console.log(
    `\nCarotene SQLite / Restate: throughput ${(sqlite.perSecond / restateResult.perSecond).toFixed(2)}×, one-at-a-time p50 ${(sqlite.serialP50 / restateResult.serialP50).toFixed(2)}×`,
  );
}
process.exit(0);
