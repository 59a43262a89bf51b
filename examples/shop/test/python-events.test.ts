// Events between a Carotene service and a service in Python (the shop's carotene_grpc on
// Debian's grpcio), both ways, over `carotene.events.v1.Events/Deliver`, with real processes
// and certificates: with direct delivery and with JetStream, through a restart of each side.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { app, contract, event, external, handler, implement, isCaroteneError, rpc, subscriber, table } from 'carotene';
import { externalEventEnv } from '../../../packages/cli/src/build/app-graph.ts';
import { protoFiles } from '../../../packages/cli/src/build/contract-protos.ts';
import { natsReachable, natsUrl } from '../../../packages/jetstream/test/nats.ts';
import { tlsFiles } from '../../../packages/runtime/src/security/cert-paths.ts';
import type { EventSettings } from '../../../packages/runtime/src/service/event-host.ts';
import { grpcContracts } from '../../../packages/runtime/src/service/grpc-contracts.ts';
import { createLogger } from '../../../packages/runtime/src/service/logger.ts';
import { startServiceHost, type ServiceHost } from '../../../packages/runtime/src/service/service-host.ts';
import { DELIVER_FN } from '../../../packages/runtime/src/transport/grpc-events.ts';
import { HttpTransport } from '../../../packages/runtime/src/transport/http-transport.ts';
import type { CallMeta, Registry, ServiceAddress } from '../../../packages/runtime/src/transport/transport.ts';
import { testPki, type TestPki } from '../../../packages/runtime/test/fixtures/certs.ts';
import { PYTHON, pythonGrpcMissing } from '../../../packages/runtime/test/grpc/standard-protos.ts';
import { freePort } from './shop-process.ts';

const Pricing = contract('pricing', {
  setPrice: rpc({ input: z.object({ productId: z.string(), price: z.number().int() }), output: z.object({}) }),
  watched: rpc({ input: z.object({}), output: z.object({ productIds: z.array(z.string()) }) }),
});
const Board = contract('board', {
  price: rpc({ input: z.object({ productId: z.string() }), output: z.object({ price: z.number().int().nullable(), changes: z.number().int() }) }),
  watch: rpc({ input: z.object({ productId: z.string() }), output: z.null() }),
});
const PriceChanged = event('pricing', 'PriceChanged', { version: 1, schema: z.object({ productId: z.string(), price: z.number().int().min(0) }) });
const Watched = event('board', 'Watched', { version: 1, schema: z.object({ productId: z.string() }) });

const Prices = table('prices', { key: 'productId', schema: z.object({ productId: z.string(), price: z.number().int(), changes: z.number().int() }) });
const Watches = table('watches', { key: 'id', schema: z.object({ id: z.string(), productId: z.string() }) });
const migrations = {
  '0001': {
    async up(db: import('kysely').Kysely<never>) {
      await db.schema
        .createTable('prices')
        .addColumn('productId', 'text', (c) => c.primaryKey())
        .addColumn('price', 'integer', (c) => c.notNull())
        .addColumn('changes', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('watches')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('productId', 'text', (c) => c.notNull())
        .execute();
    },
  },
};

const board = implement(Board, {
  stores: [Prices, Watches],
  integrations: [Pricing],
  publishes: [Watched],
  subscribes: [PriceChanged],
  migrations: migrations as never,
})
  .subscriptions({
    PriceChanged: subscriber({ updates: [Prices] }, async ({ data }, ctx) => {
      const known = await ctx.store.prices.get(data.productId);
      if (known) await ctx.store.prices.update(data.productId, { price: data.price, changes: known.changes + 1 });
      else await ctx.store.prices.insert({ productId: data.productId, price: data.price, changes: 1 });
    }),
  })
  .handlers({
    price: handler({ reads: [Prices], route: 'GET /api/prices/:productId', auth: 'none' }, async ({ productId }, ctx) => {
      const row = await ctx.store.prices.get(productId);
      return { price: row?.price ?? null, changes: row?.changes ?? 0 };
    }),
    watch: handler({ updates: [Watches], publishes: [Watched], route: 'POST /api/watches', auth: 'none' }, async ({ productId }, ctx) => {
      await ctx.transaction(async (store) => {
        await store.watches.insert({ id: `${productId}/${ctx.requestId}`, productId });
        await ctx.publish(Watched, { productId }, { key: productId });
      });
      return null;
    }),
  });
const pricing = external('pricing', Pricing, {
  publishes: [PriceChanged],
  subscribes: [Watched],
  dev: { command: PYTHON, args: ['price_feed.py'] },
  deploy: { image: 'feeds/pricing:1.0.0' },
});
const feeds = app({ name: 'feeds', services: [board, pricing] });

const RECOMMENDATIONS = new URL('../services/recommendations', import.meta.url).pathname;
const FIXTURES = new URL('./fixtures', import.meta.url).pathname;
const missing = pythonGrpcMissing();
if (missing && process.env.CI === 'true') throw new Error(`CI needs Python's gRPC for the events interop: ${missing}`);
const nats = await natsReachable();
if (nats !== true && process.env.CI === 'true') throw new Error(`CI needs NATS JetStream: ${nats}`);

/** Polls `probe` until it returns something other than undefined, at most `ms`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const transports: [string, EventSettings, string | false][] = [
  ['direct delivery', { transport: 'direct' }, missing ? `skipped: ${missing} (CI=true makes this a failure)` : false],
  [
    'JetStream',
    { transport: 'nats', url: natsUrl },
    missing ? `skipped: ${missing}` : nats !== true ? `skipped: ${nats} (CI=true makes this a failure)` : false,
  ],
];

for (const [title, events, skip] of transports) {
  describe(`events to and from a service in Python (${title})`, { skip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'carotene-feeds-'));
    const protoDir = join(dir, 'proto');
    const log = createLogger('test', 'silent');
    const services: Record<string, ServiceAddress> = {};
    const registry: Registry = { app: 'feeds', gateway: { url: '' }, services };
    let pki: TestPki;
    let host: ServiceHost | undefined;
    let python: ChildProcess | undefined;
    let output = '';
    let boardPort = 0;
    let pythonPort = 0;
    // a fresh app name per run keeps JetStream's streams of one run out of the next
    const appName = `feeds${Date.now().toString(36)}`;
    const theApp = { ...feeds, name: appName };

    const startBoard = async () => {
      const protos = grpcContracts(theApp, { dir: protoDir, log });
      host = await startServiceHost({
        app: theApp,
        service: 'board',
        host: '127.0.0.1',
        port: boardPort,
        database: { file: join(dir, 'board.sqlite') },
        transport: new HttpTransport({ caller: 'board', registry: { ...registry, app: appName }, tls: pki.credentials('board'), grpcContract: protos }),
        tls: pki.credentials('board'),
        grpc: protos('board'),
        events,
        log,
      });
      boardPort = Number(new URL(host.url).port);
      services.board = { url: host.url };
    };
    const startPython = async () => {
      const files = tlsFiles(pki.dataDir, 'pricing');
      output = '';
      python = spawn(PYTHON, [join(FIXTURES, 'price_feed.py')], {
        cwd: FIXTURES,
        env: {
          ...process.env,
          PYTHONPATH: RECOMMENDATIONS,
          CAROTENE_APP: appName,
          CAROTENE_SERVICE: 'pricing',
          CAROTENE_HOST: '127.0.0.1',
          CAROTENE_PORT: String(pythonPort),
          CAROTENE_DATA_DIR: join(dir, 'pricing-data'),
          CAROTENE_TLS_CA: files.ca,
          CAROTENE_TLS_CERT: files.cert,
          CAROTENE_TLS_KEY: files.key,
          CAROTENE_PROTO_DIR: protoDir,
          CAROTENE_ALLOWED_CALLERS: 'board',
          CAROTENE_PEER_BOARD_URL: `https://127.0.0.1:${boardPort}`,
          ...externalEventEnv(feeds, pricing),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      python.stdout!.on('data', (c: Buffer) => (output += c.toString()));
      python.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      await until(
        'the Python service to listen',
        async () => (/"msg": "listening"/.test(output) ? true : python!.exitCode !== null ? assert.fail(output) : undefined),
        30_000,
      );
    };
    const stopPython = async (signal: NodeJS.Signals) => {
      if (!python || python.exitCode !== null) return;
      const exited = new Promise((resolve) => python!.once('exit', resolve));
      python.kill(signal);
      await exited;
    };

    const meta = (caller = 'board'): CallMeta => ({ caller, requestId: `feeds-${Math.random().toString(36).slice(2)}`, deadline: Date.now() + 10_000 });
    const as = (identity: string) =>
      new HttpTransport({
        caller: identity,
        registry: { ...registry, app: appName },
        tls: pki.credentials(identity),
        grpcContract: grpcContracts(theApp, { dir: protoDir, log }),
      });
    const call = async (identity: string, service: string, fn: string, input: unknown): Promise<unknown> => {
      const transport = as(identity);
      try {
        return await transport.call(service, fn, input, meta(identity));
      } finally {
        await transport.close();
      }
    };
    const failure = async (promise: Promise<unknown>) => {
      const err = await promise.then(
        () => assert.fail('expected a failure'),
        (e: unknown) => e,
      );
      assert.ok(isCaroteneError(err), String(err));
      return err;
    };
    const priceOf = (productId: string) => call('gateway', 'board', 'price', { productId }) as Promise<{ price: number | null; changes: number }>;
    const watched = async () => ((await call('board', 'pricing', 'watched', {})) as { productIds: string[] }).productIds;

    before(async () => {
      for (const [path, text] of protoFiles(feeds, () => undefined, false)) {
        mkdirSync(dirname(join(protoDir, path)), { recursive: true });
        writeFileSync(join(protoDir, path), text);
      }
      pki = await testPki(appName, ['board', 'pricing', 'gateway', 'intruder']);
      pythonPort = await freePort();
      services.pricing = { url: `https://127.0.0.1:${pythonPort}`, protocol: 'grpc' };
      await startBoard();
      await startPython();
    });

    after(async () => {
      await stopPython('SIGKILL');
      await host?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a Python publisher’s event, kept in its outbox with its write, reaches the Carotene subscriber once', async () => {
      await call('board', 'pricing', 'setPrice', { productId: 'p1', price: 100 });
      await call('board', 'pricing', 'setPrice', { productId: 'p1', price: 120 });
      const seen = await until('both price changes at the board', async () => {
        const p = await priceOf('p1');
        return p.changes === 2 ? p : undefined;
      });
      assert.deepEqual(seen, { price: 120, changes: 2 });
    });

    it('a Carotene publisher’s event reaches the Python subscriber through the relay', async () => {
      await call('gateway', 'board', 'watch', { productId: 'p7' });
      assert.deepEqual(await until('p7 watched in Python', async () => ((await watched()).includes('p7') ? watched() : undefined)), ['p7']);
    });

    it('nothing is lost while the subscriber is down: the Python outbox retries until the board is back', async () => {
      await host!.close();
      host = undefined;
      await call('board', 'pricing', 'setPrice', { productId: 'p2', price: 5 });
      await until('the Python relay to retry', async () => (/delivery failed, retrying/.test(output) ? true : undefined));
      await startBoard();
      assert.deepEqual(await until('p2 at the board', async () => ((await priceOf('p2')).changes === 1 ? priceOf('p2') : undefined)), { price: 5, changes: 1 });
    });

    it('nothing is lost while the Python service is killed: the board’s relay retries until it is back', async () => {
      await stopPython('SIGKILL');
      await call('gateway', 'board', 'watch', { productId: 'p8' });
      await call('gateway', 'board', 'watch', { productId: 'p9' });
      await startPython();
      // in order, each once: the inbox in Python's SQLite has the ids it handled before the kill
      assert.deepEqual(await until('p8 and p9 watched', async () => ((await watched()).length === 3 ? watched() : undefined)), ['p7', 'p8', 'p9']);
    });

    it('Deliver admits only declared publishers of their own events, and refuses data that breaks the schema', async () => {
      const envelope = (source: string, type: string, data: unknown) => ({
        specversion: '1.0',
        id: `ev-${Math.random().toString(36).slice(2)}`,
        source,
        type,
        time: new Date().toISOString(),
        subject: 'k',
        datacontenttype: 'application/json',
        data,
        traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`,
        schemaversion: 1,
      });
      // at the Carotene subscriber, from the certificate of a service that publishes nothing it subscribes to
      const denied = await failure(
        call('intruder', 'board', DELIVER_FN, { events: [envelope('/services/pricing', 'pricing.PriceChanged', { productId: 'p', price: 1 })] }),
      );
      assert.equal(denied.code, 'CALLER_NOT_ALLOWED', denied.message);
      // at the Python subscriber: board's identity, but an event of another publisher
      const forged = await failure(call('board', 'pricing', DELIVER_FN, { events: [envelope('/services/catalog', 'board.Watched', { productId: 'p' })] }));
      assert.equal(forged.code, 'FORBIDDEN', `${forged.message}\n${output}`);
      // data the subscribed schema refuses, from the declared external publisher: refused to its sender with the path
      const wrong = await failure(
        call('pricing', 'board', DELIVER_FN, { events: [envelope('/services/pricing', 'pricing.PriceChanged', { productId: 'p', price: -3 })] }),
      );
      assert.equal(wrong.code, 'INVALID_INPUT', wrong.message);
      assert.match(wrong.message, /price/);
      assert.deepEqual(
        (wrong.details as { path: string }[]).map((d) => d.path),
        ['events[0].data.price'],
      );
      const bad = await failure(call('board', 'pricing', DELIVER_FN, { events: [envelope('/services/board', 'board.Watched', { productId: 42 })] }));
      assert.equal(bad.code, 'INVALID_INPUT', bad.message);
      assert.match(bad.message, /data\.productId/);
      // and nothing of it was kept: the read models are as before
      assert.deepEqual(await watched(), ['p7', 'p8', 'p9']);
      assert.equal((await priceOf('p')).changes, 0);
    });
  });
}
