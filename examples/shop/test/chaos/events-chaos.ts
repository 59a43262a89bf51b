// Crash test of the shop's events with real processes: SIGKILL the publisher (orders), the
// consumers (notifications, catalog) and, on JetStream, every broker connection, at random
// moments while orders are placed; `carrot dev` restarts what was killed. At the end every
// committed order has exactly one notification per event, none other exists, and the
// catalog's sold counters are exact. Then a poison event goes to the dead letters and is
// replayed with `carrot events dlq replay` once the fault is gone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { queryShopDb, shopApi, startShop, type Row, type RunningShop } from '../shop-process.ts';
import { servicePid as pidOf } from '../../../../packages/runtime/test/support/service-pid.ts';

const shopDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const carrot = join(shopDir, '..', '..', 'packages', 'cli', 'bin', 'carrot.js');

export interface ChaosOptions {
  /** Orders to place (keep it modest: the whole test suite has a time budget). */
  readonly orders: number;
  /** A nats:// URL to run the events through JetStream (behind a proxy the test cuts); direct otherwise. */
  readonly nats?: string;
  readonly log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo));

/** A TCP proxy in front of NATS whose connections can all be cut at once. */
async function natsProxy(target: URL): Promise<{ url: string; cut(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 4222) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `nats://127.0.0.1:${port}`,
    cut() {
      const n = sockets.size;
      for (const s of sockets) s.destroy();
      return n;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function carrotCli(args: readonly string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [carrot, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

export async function eventsChaos(options: ChaosOptions): Promise<void> {
  const started = Date.now();
  const log = (line: string) => options.log?.(`${((Date.now() - started) / 1000).toFixed(1)}s ${line}`);
  const proxy = options.nats ? await natsProxy(new URL(options.nats)) : undefined;
  const faultFile = join(shopDir, '.carotene-chaos-fault-' + process.pid);
  const saved = { ...process.env };
  // what the shop's processes inherit from carrot dev
  process.env.CAROTENE_EVENTS = proxy ? proxy.url : 'direct';
  process.env.CAROTENE_EVENTS_MAX_ATTEMPTS = '3';
  process.env.SHOP_NOTIFICATIONS_FAULT_FILE = faultFile;
  // a fresh JetStream stream per run: the app name is fixed, so clear the shop's stream first
  if (options.nats) await clearStream(options.nats);
  let shop: RunningShop | undefined;
  try {
    shop = await startShop();
    const running = shop;
    log('shop ready');
    const api = shopApi(running.url);
    const email = `chaos-${Date.now()}@shop.test`;
    assert.equal((await api('POST', '/api/users/register', { email, password: 'chaos password', name: 'Chaos' })).status, 201);
    const token = String((await api('POST', '/api/users/login', { email, password: 'chaos password' })).body.token);
    const products = ((await api('GET', '/api/products?limit=100')).body.items as Row[])
      .filter((p) => Number(p.stock) >= 40)
      .slice(0, 4)
      .map((p) => String(p.id));
    assert.ok(products.length >= 2, 'the seed has products with stock');

    // the workload: orders created and checked out, while things die
    let placing = true;
    let kills = 0;
    const chaos = (async () => {
      const victims = ['orders', 'notifications', 'catalog', ...(proxy ? ['nats'] : [])];
      // a few kills each: carrot dev's restart delay doubles with every crash in a row
      const killed = new Map<string, number>();
      while (placing) {
        await sleep(between(900, 2000));
        if (!placing) break;
        const victim = victims[between(0, victims.length)]!;
        if ((killed.get(victim) ?? 0) >= 3) continue;
        killed.set(victim, (killed.get(victim) ?? 0) + 1);
        if (victim === 'nats') {
          log(`chaos: cut ${proxy!.cut()} NATS connections`);
          kills++;
          continue;
        }
        const pid = pidOf(victim, running.dataDir);
        if (pid === undefined) continue;
        try {
          process.kill(pid, 'SIGKILL');
          kills++;
          log(`chaos: SIGKILL ${victim} (${pid})`);
        } catch {
          // exited meanwhile
        }
      }
    })();
    const workers = 4;
    let attempted = 0;
    const statuses = new Map<number, number>();
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        for (let i = w; i < options.orders; i += workers) {
          attempted++;
          const items = [{ productId: products[i % products.length]!, qty: 1 + (i % 2) }];
          // a client retries while services restart (a retry after a lost answer is a new order)
          let created: Awaited<ReturnType<typeof api>> | undefined;
          for (let tries = 0; tries < 20 && created?.status !== 201; tries++) {
            if (tries > 0) await sleep(250);
            created = await api('POST', '/api/orders', { items }, token).catch(() => undefined);
            statuses.set(created?.status ?? 0, (statuses.get(created?.status ?? 0) ?? 0) + 1);
          }
          if (created?.status === 201) {
            const card = i % 3 === 0 ? '4000000000000002' : '4242424242424242';
            await api('POST', `/api/orders/${String(created.body.id)}/checkout`, { card }, token).catch(() => undefined);
          }
          await sleep(between(150, 600));
        }
      }),
    );
    placing = false;
    await chaos;
    log(`placed ${attempted} orders with ${kills} kills; create answers: ${JSON.stringify([...statuses])}`);
    assert.ok(kills >= 3, `the chaos killed something (${kills})`);

    // let everything restart and drain, then hold the books to the exact expectation
    const expectation = () => {
      const orders = queryShopDb(running.dataDir, 'orders', 'select id, userId, status from orders');
      const expected = new Map<string, number>();
      for (const o of orders) {
        expected.set(`${String(o.id)}:ORDER_PLACED`, 1);
        if (o.status === 'CONFIRMED') expected.set(`${String(o.id)}:ORDER_CONFIRMED`, 1);
        if (o.status === 'FAILED') expected.set(`${String(o.id)}:ORDER_FAILED`, 1);
      }
      const sold = new Map<string, number>();
      for (const r of queryShopDb(
        running.dataDir,
        'orders',
        "select i.productId, sum(i.qty) as qty from order_items i join orders o on o.id = i.orderId where o.status = 'CONFIRMED' group by i.productId",
      )) {
        sold.set(String(r.productId), Number(r.qty));
      }
      return { orders, expected, sold };
    };
    const actual = () => {
      const got = new Map<string, number>();
      for (const n of queryShopDb(running.dataDir, 'notifications', 'select orderId, kind, count(*) as n from notifications group by orderId, kind')) {
        got.set(`${String(n.orderId)}:${String(n.kind)}`, Number(n.n));
      }
      const sold = new Map<string, number>();
      for (const p of queryShopDb(running.dataDir, 'catalog', 'select id, sold from products where sold > 0')) sold.set(String(p.id), Number(p.sold));
      return { got, sold };
    };
    const sorted = (m: Map<string, number>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
    const until = Date.now() + 90_000;
    for (;;) {
      try {
        // the books are final only once every checkout saga has ended and its events left the outbox
        const unfinished = queryShopDb(running.dataDir, 'orders', "select count(*) as n from carotene_sagas where status in ('running', 'compensating')")[0]!.n;
        assert.equal(unfinished, 0, 'every checkout saga has ended');
        const undelivered = queryShopDb(running.dataDir, 'orders', 'select count(*) as n from carotene_outbox where delivered_at is null')[0]!.n;
        assert.equal(undelivered, 0, 'every event of orders left its outbox');
        const e = expectation();
        const a = actual();
        assert.deepEqual(sorted(a.got), sorted(e.expected), 'exactly one notification per event of every committed order, and no other');
        assert.deepEqual(sorted(a.sold), sorted(e.sold), 'sold counters are exact');
        log(`converged: ${e.orders.length} orders, ${e.expected.size} notifications`);
        break;
      } catch (err) {
        if (Date.now() > until) throw err;
        await sleep(500);
      }
    }
    const e = expectation();
    assert.ok(e.orders.length >= options.orders / 3, `enough orders committed despite the chaos (${e.orders.length})`);
    assert.ok(e.orders.some((o) => o.status === 'CONFIRMED') && e.orders.some((o) => o.status === 'FAILED'), 'both outcomes happened');
    for (const service of ['notifications', 'catalog']) {
      const left = queryShopDb(running.dataDir, service, "select status, count(*) as n from carotene_inbox where status != 'done' group by status");
      assert.deepEqual(left, [], `${service}: nothing pending or dead in the inbox`);
    }

    // a poison event: dead-lettered with its error, then replayed once the fault is fixed
    log('poison phase');
    writeFileSync(faultFile, 'fail');
    let poisoned: string | undefined;
    for (let i = 0; i < 50 && !poisoned; i++) {
      const r = await api('POST', '/api/orders', { items: [{ productId: products[0], qty: 1 }] }, token).catch(() => undefined);
      if (r?.status === 201) poisoned = String(r.body.id);
      else await sleep(300);
    }
    assert.ok(poisoned, 'an order could be placed for the poison event');
    const dlq = () => carrotCli(['events', 'dlq', 'list', shopDir, '--data-dir', running.dataDir, '--service', 'notifications', '--json']);
    let dead: Row[] = [];
    for (const until2 = Date.now() + 45_000; Date.now() < until2 && dead.length === 0; await sleep(300)) {
      const r = dlq();
      assert.equal(r.code, 0, r.out);
      dead = r.out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Row);
    }
    assert.equal(dead.length, 1, 'the poison event is in the dead letters');
    assert.equal(dead[0]!.type, 'orders.OrderPlaced');
    assert.equal(dead[0]!.key, poisoned);
    assert.match(String(dead[0]!.error), /failing on purpose/);
    assert.equal(queryShopDb(running.dataDir, 'notifications', `select count(*) as n from notifications where orderId = '${poisoned}'`)[0]!.n, 0);
    rmSync(faultFile, { force: true });
    const replay = carrotCli(['events', 'dlq', 'replay', '--all', shopDir, '--data-dir', running.dataDir, '--service', 'notifications']);
    assert.equal(replay.code, 0, replay.out);
    assert.match(replay.out, new RegExp(`replayed ${String(dead[0]!.id)}`));
    let notified = 0;
    for (const until3 = Date.now() + 15_000; Date.now() < until3 && notified === 0; await sleep(200)) {
      notified = Number(queryShopDb(running.dataDir, 'notifications', `select count(*) as n from notifications where orderId = '${poisoned}'`)[0]!.n);
    }
    assert.equal(notified, 1, 'the replayed event notified once');
    assert.match(dlq().out, /^$/m);
    assert.equal(
      dlq()
        .out.split('\n')
        .filter((l) => l.startsWith('{')).length,
      0,
      'the dead letters are empty again',
    );
  } finally {
    rmSync(faultFile, { force: true });
    for (const key of ['CAROTENE_EVENTS', 'CAROTENE_EVENTS_MAX_ATTEMPTS', 'SHOP_NOTIFICATIONS_FAULT_FILE']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
    if (shop) {
      const code = await shop.stop();
      if (code !== 0) log(`carrot dev exited with ${code}:\n${shop.output().slice(-4000)}`);
    }
    await proxy?.close();
    if (options.nats) await clearStream(options.nats);
  }
}

async function clearStream(url: string): Promise<void> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: url });
  try {
    await (await jetstreamManager(nc)).streams.delete('CAROTENE_SHOP').catch(() => undefined);
  } finally {
    await nc.close();
  }
}
