import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { isCaroteneError } from '../../../carotene/src/errors.ts';
import { DELIVER_FN } from '../../src/transport/grpc-events.ts';
import { closeOrder, startGroupHost, type GroupHost } from '../../src/service/group-host.ts';
import { createLogger } from '../../src/service/logger.ts';
import { HttpTransport } from '../../src/transport/http-transport.ts';
import { InProcessTransport, LocalServices } from '../../src/transport/in-process-transport.ts';
import type { CallMeta, Registry, Transport } from '../../src/transport/transport.ts';
import { testPki, type TestPki } from '../fixtures/certs.ts';
import fixture, { slowRuns } from '../fixtures/colocated.ts';

// Three services in one process, each on its own SQLite file and its own listener.
describe('services sharing one process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carotene-group-'));
  const registry: { app: string; gateway: { url: string }; services: Record<string, { url: string }> } = {
    app: 'colocated',
    gateway: { url: 'http://127.0.0.1:1' },
    services: {},
  };
  const remoteCalls: string[] = [];
  let group: GroupHost;
  let pki: TestPki;
  // a caller inside the process, with the identity of `as`
  let local: LocalServices;
  const from = (as: string): Transport => new InProcessTransport(as, local);
  const meta = (ms = 5_000): CallMeta => ({ caller: 'forged', requestId: `r-${Math.random()}`, deadline: Date.now() + ms });

  before(async () => {
    pki = await testPki('colocated', ['stock', 'shopfront', 'outsider', 'gateway']);
    group = await startGroupHost({
      app: fixture,
      services: ['stock', 'shopfront', 'outsider'],
      remote: (service) => ({
        call: async (callee, fn) => {
          remoteCalls.push(`${service}->${callee}.${fn}`);
          return null;
        },
        close: async () => undefined,
      }),
      hostOptions: (service, transport) => ({
        app: fixture,
        service,
        host: '127.0.0.1',
        port: 0,
        database: { file: join(dir, `${service}.sqlite`) },
        transport,
        tls: pki.credentials(service),
        log: createLogger(service, 'silent'),
      }),
    });
    for (const [name, host] of group.hosts) registry.services[name] = { url: host.url };
    // the same runtimes a co-located caller reaches
    local = new LocalServices();
    for (const [name, host] of group.hosts) local.register(name, host.runtime);
  });

  after(async () => {
    await group.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('calls a co-located service in process, with the typed error of its contract', async () => {
    const out = await from('gateway').call('shopfront', 'callStock', { code: 'DOMAIN' }, meta());
    assert.deepEqual(JSON.parse(out as string), { code: 'SOLD_OUT', domain: true, details: { left: 0 } });
    const crash = await from('gateway').call('shopfront', 'callStock', { code: 'CRASH' }, meta());
    assert.equal(JSON.parse(crash as string).code, 'INTERNAL');
    assert.deepEqual(remoteCalls, [], 'nothing went over the network');
  });

  it('sees the calling service as the caller, with the deadline and request id carried', async () => {
    const m = meta(3_000);
    const out = (await from('shopfront').call('stock', 'whoCalls', {}, m)) as { caller: string; deadline: number; requestId: string };
    assert.deepEqual(out, { caller: 'shopfront', deadline: m.deadline, requestId: m.requestId });
  });

  it('refuses a caller the declared graph does not allow, whatever meta claims', async () => {
    for (const caller of ['outsider', 'gateway']) {
      await assert.rejects(
        from(caller).call('stock', 'whoCalls', {}, { ...meta(), caller: 'shopfront' }),
        (err: unknown) => isCaroteneError(err, 'CALLER_NOT_ALLOWED') && err.status === 403 && err.service === 'stock',
        `${caller} may not call stock`,
      );
    }
  });

  it('validates input at the callee', async () => {
    await assert.rejects(from('shopfront').call('stock', 'put', { id: 'x', count: 1.5, tags: [] }, meta()), (err: unknown) =>
      isCaroteneError(err, 'INVALID_INPUT'),
    );
  });

  it('never shares objects between caller and callee', async () => {
    const input = { id: 'i1', count: 3, tags: ['new'] };
    const out = (await from('shopfront').call('stock', 'put', input, meta())) as { tags: string[] };
    assert.deepEqual(input.tags, ['new'], "stock's mutation of its input stayed in stock");
    assert.deepEqual(out.tags, ['new', 'seen by stock']);
    const first = (await from('shopfront').call('stock', 'cached', {}, meta())) as { count: number; tags: string[] };
    first.count = 1_000;
    first.tags.push('tampered');
    assert.deepEqual(await from('shopfront').call('stock', 'cached', {}, meta()), { id: 'cached', count: 1, tags: ['a'] });
  });

  it('stops waiting at the deadline even though the callee keeps running', async () => {
    const started = Date.now();
    await assert.rejects(from('shopfront').call('stock', 'slow', { ms: 400 }, meta(80)), (err: unknown) => isCaroteneError(err, 'DEADLINE_EXCEEDED'));
    assert.ok(Date.now() - started < 300);
    assert.equal(slowRuns.length, 0);
  });

  it("keeps each service out of another's store, even in one process", async () => {
    await assert.rejects(from('gateway').call('shopfront', 'readStockTable', {}, meta()), (err: unknown) => {
      // a bug of shopfront's: INTERNAL to its caller, the message saying what it reached
      assert.ok(isCaroteneError(err, 'INTERNAL'), String(err));
      assert.match(err.message, /used a permission it did not declare: .*stock_items/);
      return true;
    });
    // SQL from shopfront's own connection cannot name stock's table: it is in another database
    await assert.rejects(from('gateway').call('shopfront', 'joinStockTable', {}, meta()), (err: unknown) => isCaroteneError(err, 'INTERNAL'));
    const tables = (service: string) => {
      const db = new Database(join(dir, `${service}.sqlite`), { readonly: true });
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
    assert.deepEqual(tables('stock'), ['stock_items']);
    assert.deepEqual(tables('shopfront'), ['cart_lines']);
  });

  it("delivers events in process, from the publisher's own outbox to the subscriber's own inbox", async () => {
    await from('shopfront').call('stock', 'put', { id: 'e1', count: 2, tags: [] }, meta());
    const rows = (service: string, query: string) => {
      const db = new Database(join(dir, `${service}.sqlite`), { readonly: true });
      try {
        return db.prepare(query).all() as Record<string, unknown>[];
      } finally {
        db.close();
      }
    };
    const deadline = Date.now() + 5_000;
    while (!rows('shopfront', "select id from cart_lines where id = 'restocked:e1'").length) {
      assert.ok(Date.now() < deadline, 'the subscriber handled the event within 5 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(rows('stock', "select id from carotene_outbox where destination = 'shopfront'").length >= 1, "the event left through stock's outbox");
    assert.ok(
      rows('shopfront', "select envelope from carotene_inbox where type = 'stock.Restocked'").some((r) => String(r.envelope).includes('"e1"')),
      "and arrived in shopfront's inbox",
    );
    assert.deepEqual(remoteCalls, [], 'delivery stayed in the process');
    // only publishers of events shopfront subscribes to may deliver to it
    await assert.rejects(from('outsider').call('shopfront', DELIVER_FN, {}, meta()), (err: unknown) => isCaroteneError(err, 'CALLER_NOT_ALLOWED'));
  });

  it('still serves services of other processes over its own listeners', async () => {
    const asShopfront = new HttpTransport({ caller: 'shopfront', registry: registry as Registry, tls: pki.credentials('shopfront') });
    try {
      const out = (await asShopfront.call('stock', 'whoCalls', {}, meta())) as { caller: string };
      assert.equal(out.caller, 'shopfront');
    } finally {
      await asShopfront.close();
    }
  });

  it('closes callers before the services they call', () => {
    assert.deepEqual(closeOrder(fixture, ['stock', 'shopfront', 'outsider']), ['shopfront', 'outsider', 'stock']);
  });
});

describe('startGroupHost', () => {
  it('refuses a service the app does not have, naming the ones it has', async () => {
    await assert.rejects(
      startGroupHost({
        app: fixture,
        services: ['stock', 'ghost'],
        remote: () => new InProcessTransport('x', new LocalServices()),
        hostOptions: () => assert.fail('nothing starts'),
      }),
      /no service 'ghost' \(it has: stock, shopfront, outsider\)/,
    );
  });
});
