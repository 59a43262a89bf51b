// Carotene calls the Python recommendations service (Debian's grpcio, stubs from the shop's
// .proto files), and the Python service calls the catalog and orders back over gRPC with its
// own certificate: both directions of the interop, with real processes and certificates.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { isCaroteneError } from 'carotene';
import { tlsFiles } from '../../../packages/runtime/src/security/cert-paths.ts';
import { grpcContracts } from '../../../packages/runtime/src/service/grpc-contracts.ts';
import { createLogger } from '../../../packages/runtime/src/service/logger.ts';
import { startServiceHost, type ServiceHost } from '../../../packages/runtime/src/service/service-host.ts';
import { HttpTransport } from '../../../packages/runtime/src/transport/http-transport.ts';
import type { CallMeta, Registry, ServiceAddress } from '../../../packages/runtime/src/transport/transport.ts';
import { testPki, type TestPki } from '../../../packages/runtime/test/fixtures/certs.ts';
import { PYTHON, pythonGrpcMissing } from '../../../packages/runtime/test/grpc/standard-protos.ts';
import shop from '../app.ts';
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
    for (const name of ['catalog', 'orders']) {
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
        CAROTENE_ALLOWED_CALLERS: 'gateway',
        CAROTENE_PEER_CATALOG_URL: services.catalog!.url,
        CAROTENE_PEER_ORDERS_URL: services.orders!.url,
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

  const meta = (ms = 10_000): CallMeta => ({ caller: 'gateway', requestId: `recs-${Math.random()}`, deadline: Date.now() + ms });
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

  it('answers a declared caller with products bought together or near in price, read from catalog and orders over gRPC', async () => {
    const answer = (await client('gateway').recommend('p_001')) as { items: { id: string; name: string; price: number }[] };
    assert.equal(answer.items.length, 4, JSON.stringify(answer));
    assert.ok(answer.items.every((p) => p.id !== 'p_001' && typeof p.name === 'string' && Number.isInteger(p.price)));
    assert.match(output, /"msg": "served", "fn": "Recommend", "caller": "gateway"/);
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
