// Carotene calls the Python recommendations service (Debian's grpcio, stubs from the shop's
// .proto files), the Python service calls the catalog back over gRPC with its own
// certificate, and the orders' events are delivered to it: both directions of the interop,
// with real processes and certificates.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { isCaroteneError } from 'carotene';
import { externalEventEnv } from '../../../packages/cli/src/build/app-graph.ts';
import { buildEnvelope } from '../../../packages/runtime/src/events/envelope.ts';
import { DELIVER_FN } from '../../../packages/runtime/src/transport/grpc-events.ts';
import { tlsFiles } from '../../../packages/runtime/src/security/cert-paths.ts';
import { grpcContracts } from '../../../packages/runtime/src/service/grpc-contracts.ts';
import { createLogger } from '../../../packages/runtime/src/service/logger.ts';
import { startServiceHost, type ServiceHost } from '../../../packages/runtime/src/service/service-host.ts';
import { HttpTransport } from '../../../packages/runtime/src/transport/http-transport.ts';
import type { CallMeta, Registry, ServiceAddress } from '../../../packages/runtime/src/transport/transport.ts';
import { testPki, type TestPki } from '../../../packages/runtime/test/fixtures/certs.ts';
import { PYTHON, pythonGrpcMissing } from '../../../packages/runtime/test/grpc/standard-protos.ts';
import shop from '../app.ts';
import { OrderConfirmed, OrderPlaced } from '../services/orders/events.ts';
import recommendations from '../services/recommendations/service.ts';
import { freePort } from './shop-process.ts';

const SHOP = new URL('..', import.meta.url).pathname;
const PROTO_DIR = join(SHOP, 'proto');
const missing = pythonGrpcMissing();
if (missing && process.env.CI === 'true') throw new Error(`CI needs Python's gRPC for the recommendations service: ${missing}`);

describe('the Python recommendations service over gRPC', { skip: missing ? `skipped: ${missing} (CI=true makes this a failure)` : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'carotene-recs-'));
  const log = createLogger('test', 'silent');
  const protos = grpcContracts(shop, { dir: PROTO_DIR, log });
  const services: Record<string, ServiceAddress> = {};
  const hosts: ServiceHost[] = [];
  let pki: TestPki;
  let other: TestPki;
  let python: ChildProcess | undefined;
  let output = '';
  let url = '';

  before(async () => {
    pki = await testPki('shop', ['catalog', 'orders', 'recommendations', 'gateway', 'users']);
    other = await testPki('shop', ['gateway']);
    const registry: Registry = { app: 'shop', gateway: { url: '' }, services };
    for (const name of ['catalog']) {
      const host = await startServiceHost({
        app: shop,
        service: name,
        host: '127.0.0.1',
        port: 0,
        database: { file: join(dir, `${name}.sqlite`) },
        transport: new HttpTransport({ caller: name, registry, tls: pki.credentials(name), grpcContract: protos }),
        tls: pki.credentials(name),
        grpc: protos(name),
        log,
      });
      hosts.push(host);
      services[name] = { url: host.url };
    }
    const port = await freePort();
    url = `https://127.0.0.1:${port}`;
    const files = tlsFiles(pki.dataDir, 'recommendations');
    python = spawn(PYTHON, ['server.py'], {
      cwd: join(SHOP, 'services', 'recommendations'),
      env: {
        ...process.env,
        CAROTENE_APP: 'shop',
        CAROTENE_SERVICE: 'recommendations',
        CAROTENE_HOST: '127.0.0.1',
        CAROTENE_PORT: String(port),
        CAROTENE_TLS_CA: files.ca,
        CAROTENE_TLS_CERT: files.cert,
        CAROTENE_TLS_KEY: files.key,
        CAROTENE_PROTO_DIR: PROTO_DIR,
        CAROTENE_DATA_DIR: join(dir, 'recommendations'),
        CAROTENE_ALLOWED_CALLERS: 'gateway',
        CAROTENE_PEER_CATALOG_URL: services.catalog!.url,
        ...externalEventEnv(shop, recommendations),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    python.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    python.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    for (const end = Date.now() + 30_000; !/"msg": "listening"/.test(output); ) {
      if (Date.now() > end || python.exitCode !== null) assert.fail(`the Python service did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  after(async () => {
    if (python && python.exitCode === null) {
      const exited = new Promise((resolve) => python!.once('exit', resolve));
      python.kill('SIGTERM');
      await exited;
    }
    for (const host of hosts) await host.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const meta = (ms = 10_000, caller = 'gateway'): CallMeta => ({ caller, requestId: `recs-${Math.random()}`, deadline: Date.now() + ms });
  /** What orders' relay sends: a batch of its events to `carotene.events.v1.Events/Deliver`. */
  const deliver = async (identity: string, events: unknown[]) => {
    const transport = new HttpTransport({
      caller: identity,
      registry: { app: 'shop', gateway: { url: '' }, services: { recommendations: { url, protocol: 'grpc' } } },
      tls: pki.credentials(identity),
      grpcContract: protos,
    });
    try {
      return await transport.call('recommendations', DELIVER_FN, { events }, meta(10_000, identity));
    } finally {
      await transport.close();
    }
  };
  const client = (identity: string, pkiOf = () => pki) => {
    const transport = new HttpTransport({
      caller: identity,
      registry: { app: 'shop', gateway: { url: '' }, services: { recommendations: { url, protocol: 'grpc' } } },
      tls: pkiOf().credentials(identity),
      grpcContract: protos,
    });
    return {
      recommend: async (id: string, ms?: number) => {
        try {
          return await transport.call('recommendations', 'recommend', { id }, meta(ms));
        } finally {
          await transport.close();
        }
      },
    };
  };
  const failure = async (call: Promise<unknown>) => {
    const err = await call.then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    assert.ok(isCaroteneError(err), String(err));
    return err;
  };

  it('answers a declared caller with products near in price while it knows of no orders, read from the catalog over gRPC', async () => {
    const answer = (await client('gateway').recommend('p_001')) as { items: { id: string; name: string; price: number }[] };
    assert.equal(answer.items.length, 4, JSON.stringify(answer));
    assert.ok(answer.items.every((p) => p.id !== 'p_001' && typeof p.name === 'string' && Number.isInteger(p.price)));
    assert.match(output, /"msg": "served", "fn": "Recommend", "caller": "gateway"/);
  });

  it('learns what is bought together from the orders events delivered to it, each event once', async () => {
    const confirmed = (orderId: string, products: string[]) =>
      buildEnvelope(OrderConfirmed, { orderId, userId: 'usr_1', total: 1, items: products.map((productId) => ({ productId, qty: 1 })) }, orderId);
    const twice = confirmed('o3', ['p_001', 'p_007']);
    assert.deepEqual(
      await deliver('orders', [
        confirmed('o1', ['p_001', 'p_005']),
        confirmed('o2', ['p_005', 'p_001', 'p_009']),
        twice,
        buildEnvelope(OrderPlaced, { orderId: 'o4', userId: 'usr_1', total: 1, items: [{ productId: 'p_001', qty: 1 }] }, 'o4'),
      ]),
      { accepted: 4 },
    );
    // the same event again (a relay retrying after a lost answer) is acknowledged, not counted again
    await deliver('orders', [twice]);
    await deliver('orders', [twice]);
    const answer = (await client('gateway').recommend('p_001')) as { items: { id: string }[] };
    // p_005 was in two orders with p_001; p_007 in one (three deliveries) and p_009 in one: ties by id
    assert.deepEqual(
      answer.items.slice(0, 3).map((p) => p.id),
      ['p_005', 'p_007', 'p_009'],
      output,
    );
    assert.match(output, /"msg": "events handled", "caller": "orders", "received": 4, "handled": 3/);
  });

  it('refuses events from a service that is not their declared publisher, and events that break the schema', async () => {
    const denied = await failure(deliver('catalog', [buildEnvelope(OrderConfirmed, { orderId: 'x', userId: 'u', total: 1, items: [] }, 'x')]));
    assert.equal(denied.code, 'CALLER_NOT_ALLOWED', denied.message);
    const bad = await failure(deliver('orders', [{ ...buildEnvelope(OrderConfirmed, { orderId: 'x', userId: 'u', total: 1, items: 'p_001' }, 'x') }]));
    assert.equal(bad.code, 'INVALID_INPUT', bad.message);
    assert.match(bad.message, /data\.items/);
  });

  it('answers an unknown product with the declared NOT_FOUND, as the catalog told it', async () => {
    const err = await failure(client('gateway').recommend('p_missing'));
    assert.equal(err.code, 'NOT_FOUND');
    assert.equal(err.status, 404);
    assert.equal(err.domain, true);
    assert.equal(err.service, 'recommendations');
  });

  it('refuses invalid input with INVALID_INPUT naming the field', async () => {
    const err = await failure(client('gateway').recommend(''));
    assert.equal(err.code, 'INVALID_INPUT');
    assert.equal(err.status, 400);
    assert.match(err.message, /input\.id/);
  });

  it('refuses a caller the app did not declare, and a certificate from another CA', async () => {
    const denied = await failure(client('users').recommend('p_001'));
    assert.equal(denied.code, 'CALLER_NOT_ALLOWED', denied.message);
    assert.match(denied.message, /'users' may not call recommendations/);
    const stranger = await failure(client('gateway', () => other).recommend('p_001'));
    assert.equal(stranger.code, 'UNAVAILABLE', stranger.message);
  });

  it('refuses a connection without a client certificate at the handshake', async () => {
    const { port } = new URL(url);
    const socket = connect({
      host: '127.0.0.1',
      port: Number(port),
      ca: tlsFiles(pki.dataDir, 'gateway').ca,
      servername: 'recommendations',
      ALPNProtocols: ['h2'],
    });
    const outcome = await new Promise<string>((resolve) => {
      socket.on('data', () => resolve('data'));
      socket.on('error', (e) => resolve(`error: ${e.message}`));
      socket.on('close', () => resolve('closed'));
      setTimeout(() => resolve('still open'), 5_000).unref();
    });
    socket.destroy();
    assert.match(outcome, /^(error|closed)/, outcome);
  });

  it('gives up at the caller’s deadline with DEADLINE_EXCEEDED', async () => {
    const err = await failure(client('gateway').recommend('p_002', 2));
    assert.equal(err.code, 'DEADLINE_EXCEEDED', err.message);
  });
});
