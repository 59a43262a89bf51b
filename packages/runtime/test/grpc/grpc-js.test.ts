// @grpc/grpc-js as a second standard client of a Carotene service (health Watch, gzip and the
// limits too), and as a server that is not
// Carotene at all, called by Carotene's gRPC client: statuses come back as the typed errors.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { isCaroteneError } from '../../../carotene/src/errors.ts';
import { isRejection } from '../../../carotene/src/index.ts';
import { tlsFiles } from '../../src/security/cert-paths.ts';
import { createLogger } from '../../src/service/logger.ts';
import { startServiceHost, type ServiceHost } from '../../src/service/service-host.ts';
import { ErrorInfoSchema } from '../../src/transport/grpc-descriptors.ts';
import { HttpTransport } from '../../src/transport/http-transport.ts';
import type { Registry, ServiceAddress } from '../../src/transport/transport.ts';
import { testPki, type TestPki } from '../fixtures/certs.ts';
import grpcApp, { Catalog, catalogProto } from './grpc-app.ts';
import { HEALTH_PROTO } from './standard-protos.ts';

type Callback = (err: grpc.ServiceError | null, value?: Record<string, unknown>) => void;
type Stub = grpc.Client & Record<string, (req: object, metadata: grpc.Metadata, options: grpc.CallOptions, cb: Callback) => void>;

describe('gRPC with @grpc/grpc-js on the other end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carotene-grpc-js-'));
  const services: Record<string, ServiceAddress> = {};
  const registry: Registry = { app: 'grpcapp', gateway: { url: '' }, services };
  const log = createLogger('test', 'silent');
  const hosts: ServiceHost[] = [];
  const transports: HttpTransport[] = [];
  let pki: TestPki;
  let definitions: grpc.GrpcObject;
  let foreign: grpc.Server;
  /** What the foreign server saw of each call. */
  const seen: Array<{ method: string; metadata: Record<string, unknown>; deadline: number }> = [];

  const credentials = (identity: string) => {
    const files = tlsFiles(pki.dataDir, identity);
    return grpc.credentials.createSsl(readFileSync(files.ca), readFileSync(files.key), readFileSync(files.cert));
  };
  const stub = (path: string, url: string, identity: string): Stub => {
    const Ctor = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], definitions) as grpc.ServiceClientConstructor;
    return new Ctor(`localhost:${new URL(url).port}`, credentials(identity)) as unknown as Stub;
  };
  const unary = (client: Stub, method: string, req: object, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}) =>
    new Promise<{ err: grpc.ServiceError | null; value?: Record<string, unknown> }>((resolve) =>
      client[method]!(req, metadata, options, (err, value) => resolve({ err, value })),
    );
  const client = (identity: string, reg: Registry) => {
    const t = new HttpTransport({
      caller: identity,
      registry: reg,
      tls: pki.credentials(identity),
      grpcContract: (s) => (s === 'catalog' ? catalogProto : undefined),
    });
    transports.push(t);
    return t;
  };
  const meta = (ms = 5_000) => ({
    caller: 'shop',
    requestId: `r-${Math.random().toString(36).slice(2)}`,
    deadline: Date.now() + ms,
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  });

  before(async () => {
    pki = await testPki('grpcapp', ['catalog', 'pricing', 'shop', 'intruder']);
    writeFileSync(join(dir, 'catalog.proto'), catalogProto.text);
    writeFileSync(join(dir, 'health.proto'), HEALTH_PROTO);
    definitions = grpc.loadPackageDefinition(protoLoader.loadSync(['catalog.proto', 'health.proto'], { includeDirs: [dir], keepCase: true, longs: Number }));
    for (const name of ['pricing', 'catalog'] as const) {
      const host = await startServiceHost({
        app: grpcApp,
        service: name,
        host: '127.0.0.1',
        port: 0,
        database: { file: join(dir, `${name}.sqlite`) },
        transport: client(name, registry),
        tls: pki.credentials(name),
        log,
      });
      hosts.push(host);
      services[name] = { url: host.url };
    }
    // a catalog that is not Carotene: a bare grpc-js server with the catalog's certificate
    foreign = new grpc.Server();
    const files = tlsFiles(pki.dataDir, 'catalog');
    const Service = (definitions as never as { carotene: { catalog: { v1: { Catalog: grpc.ServiceClientConstructor } } } }).carotene.catalog.v1.Catalog;
    const record = (method: string, call: grpc.ServerUnaryCall<unknown, unknown>) =>
      seen.push({ method, metadata: call.metadata.getMap(), deadline: Number(call.getDeadline()) });
    foreign.addService(Service.service, {
      GetProduct: (call: grpc.ServerUnaryCall<{ product_id: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        record('GetProduct', call);
        if (call.request.product_id === 'gone') return cb({ code: grpc.status.NOT_FOUND, details: 'no such product' });
        cb(null, { product_id: call.request.product_id, name: 'foreign', price: 1.25 });
      },
      Reserve: (call: grpc.ServerUnaryCall<{ qty: number }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        record('Reserve', call);
        const metadata = new grpc.Metadata();
        metadata.set('grpc-status-details-bin', statusWithErrorInfo(grpc.status.FAILED_PRECONDITION, 'sold out', 'OUT_OF_STOCK', 'inventory.example'));
        cb({ code: grpc.status.FAILED_PRECONDITION, details: 'sold out', metadata });
      },
      Slow: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        record('Slow', call);
        setTimeout(() => cb(null, { done: true }), 2_000).unref();
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      foreign.bindAsync(
        '127.0.0.1:0',
        grpc.ServerCredentials.createSsl(readFileSync(files.ca), [{ private_key: readFileSync(files.key), cert_chain: readFileSync(files.cert) }], true),
        (err, p) => (err ? reject(err) : resolve(p)),
      ),
    );
    services.foreign = { url: `https://127.0.0.1:${port}`, protocol: 'grpc' };
  });

  after(async () => {
    for (const t of transports) await t.close();
    for (const host of hosts.reverse()) await host.close();
    foreign.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
    rmSync(pki.dataDir, { recursive: true, force: true });
  });

  it('grpc-js calls a Carotene service: metadata reaches the handler, errors carry ErrorInfo, health answers', async () => {
    const catalog = stub('carotene.catalog.v1.Catalog', services.catalog!.url, 'shop');
    const metadata = new grpc.Metadata();
    metadata.set('x-request-id', 'js-42');
    const ok = await unary(catalog, 'GetProduct', { product_id: 'p7' }, metadata);
    assert.equal(ok.err, null);
    assert.deepEqual(ok.value, { product_id: 'p7', name: 'product p7 for shop (js-42)', price: 9.5 });
    const rejected = await unary(catalog, 'Reserve', { product_id: 'p7', qty: 50 });
    assert.equal(rejected.err?.code, grpc.status.FAILED_PRECONDITION);
    // grpc-js undoes the percent-encoding of grpc-message with decodeURI, which leaves %3A and the like
    assert.match(decodeURIComponent(rejected.err?.details ?? ''), /only 10 left, 50 asked/);
    assert.ok(rejected.err?.metadata.get('grpc-status-details-bin')[0], 'the status details travel');
    const unknown = await unary(catalog, 'GetProduct', { product_id: '' });
    assert.equal(unknown.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(decodeURIComponent(unknown.err?.details ?? ''), /productId: /);
    const health = stub('grpc.health.v1.Health', services.catalog!.url, 'intruder');
    assert.deepEqual((await unary(health, 'Check', { service: '' })).value, { status: 1 }, 'SERVING');
    catalog.close();
    health.close();
  });

  it('serves health Watch, gzip messages, and refuses oversized or malformed messages with a status', async () => {
    const health = stub('grpc.health.v1.Health', services.catalog!.url, 'intruder');
    const first = (service: string) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const call = (health as unknown as { Watch(req: object): grpc.ClientReadableStream<Record<string, unknown>> }).Watch({ service });
        call.once('data', (message) => {
          resolve(message);
          call.cancel();
        });
        call.once('error', (err: grpc.ServiceError) => (err.code === grpc.status.CANCELLED ? undefined : reject(err)));
      });
    assert.deepEqual(await first(''), { status: 1 }, 'SERVING, sent at once');
    assert.deepEqual(await first('carotene.catalog.v1.Catalog'), { status: 1 });
    assert.deepEqual(await first('nope'), { status: 3 }, 'an unknown service is SERVICE_UNKNOWN, not an error');
    health.close();

    const Ctor = (definitions as never as { carotene: { catalog: { v1: { Catalog: grpc.ServiceClientConstructor } } } }).carotene.catalog.v1.Catalog;
    const gzip = new Ctor(`localhost:${new URL(services.catalog!.url).port}`, credentials('shop'), {
      'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip,
    }) as unknown as Stub;
    const zipped = await unary(gzip, 'GetProduct', { product_id: 'pz' });
    assert.equal(zipped.err, null);
    assert.equal(zipped.value?.product_id, 'pz');
    const huge = await unary(gzip, 'GetProduct', { product_id: 'x'.repeat(5 * 1024 * 1024) });
    assert.equal(huge.err?.code, grpc.status.RESOURCE_EXHAUSTED, String(huge.err));
    gzip.close();
    const plain = stub('carotene.catalog.v1.Catalog', services.catalog!.url, 'shop');
    const big = await unary(plain, 'GetProduct', { product_id: 'x'.repeat(5 * 1024 * 1024) });
    assert.equal(big.err?.code, grpc.status.RESOURCE_EXHAUSTED, String(big.err));
    assert.equal((await unary(plain, 'GetProduct', { product_id: 'after' })).value?.product_id, 'after', 'the connection still serves');
    plain.close();

    // a frame whose length says 9 bytes, with 2 after it
    const files = tlsFiles(pki.dataDir, 'shop');
    const session = http2.connect(services.catalog!.url, {
      ca: readFileSync(files.ca),
      cert: readFileSync(files.cert),
      key: readFileSync(files.key),
      checkServerIdentity: () => undefined,
    });
    const answer = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/carotene.catalog.v1.Catalog/GetProduct',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      stream.on('response', resolve);
      stream.on('error', reject);
      stream.end(Buffer.from([0, 0, 0, 0, 9, 1, 2]));
    });
    session.close();
    assert.equal(answer['grpc-status'], String(grpc.status.INVALID_ARGUMENT));
    assert.match(decodeURIComponent(String(answer['grpc-message'])), /cut short: 2 of 9 bytes/);
  });

  it('serves the Connect protocol (JSON over HTTP/1.1) from the same methods, for curl and browsers', async () => {
    const files = tlsFiles(pki.dataDir, 'shop');
    const post = (body: string) =>
      new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
        const req = https.request(
          `${services.catalog!.url}/carotene.catalog.v1.Catalog/GetProduct`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'connect-protocol-version': '1' },
            ca: readFileSync(files.ca),
            cert: readFileSync(files.cert),
            key: readFileSync(files.key),
            checkServerIdentity: () => undefined,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const ok = await post('{"productId":"pj"}');
    assert.equal(ok.status, 200);
    assert.equal(ok.json.productId, 'pj');
    const invalid = await post('{"productId":""}');
    assert.equal(invalid.status, 400);
    assert.equal(invalid.json.code, 'invalid_argument');
  });

  it("Carotene's gRPC client spreads calls over a callee's instances and ejects one that is down", async () => {
    const changes: Array<{ url: string; ejected: boolean }> = [];
    const dead = 'https://127.0.0.1:1';
    const reg: Registry = {
      ...registry,
      services: { ...services, catalog: { url: dead, protocol: 'grpc', instances: [{ url: dead }, { url: services.catalog!.url }] } },
    };
    const t = new HttpTransport({
      caller: 'shop',
      registry: reg,
      tls: pki.credentials('shop'),
      grpcContract: (s) => (s === 'catalog' ? catalogProto : undefined),
      onInstanceChange: (e) => changes.push(e),
    });
    transports.push(t);
    for (let i = 0; i < 20; i++)
      assert.equal(((await t.call('catalog', 'getProduct', { productId: `p${i}` }, meta())) as { productId: string }).productId, `p${i}`);
    assert.deepEqual(
      changes.map((c) => [c.url, c.ejected]),
      [[dead, true]],
      'the dead instance left the rotation once; a refused connection never ran the call, so the other instance took it',
    );
  });

  it("Carotene's gRPC client calls a Carotene service registered as gRPC: the same typed errors as carotene-rpc/1", async () => {
    const reg: Registry = { ...registry, services: { ...services, catalog: { url: services.catalog!.url, protocol: 'grpc' } } };
    const shop = client('shop', reg);
    const out = await shop.call('catalog', 'getProduct', { productId: 'p1' }, { ...meta(), requestId: 'via-grpc' });
    assert.deepEqual(out, { productId: 'p1', name: 'product p1 for shop (via-grpc)', price: 9.5 });
    const err = await shop.call('catalog', 'reserve', { productId: 'p1', qty: 11 }, meta()).catch((e: unknown) => e);
    assert.ok(isRejection(err, Catalog.functions.reserve, 'OUT_OF_STOCK'), String(err));
    assert.equal((err as { status: number }).status, 409);
    assert.equal((err as { service: string }).service, 'catalog');
    const denied = await client('intruder', reg)
      .call('catalog', 'getProduct', { productId: 'p1' }, meta())
      .catch((e: unknown) => e);
    assert.ok(isCaroteneError(denied, 'CALLER_NOT_ALLOWED'), String(denied));
    const invalid = await shop.call('catalog', 'reserve', { productId: 'p1', qty: 0 }, meta()).catch((e: unknown) => e);
    assert.ok(isCaroteneError(invalid, 'INVALID_INPUT'), String(invalid));
    assert.match((invalid as Error).message, /qty/);
  });

  it("Carotene's gRPC client calls a server that is not Carotene: statuses map back to typed errors", async () => {
    const reg: Registry = { ...registry, services: { ...services, catalog: services.foreign! } };
    const shop = client('shop', reg);
    const started = Date.now();
    assert.deepEqual(await shop.call('catalog', 'getProduct', { productId: 'p2' }, { ...meta(3_000), requestId: 'to-foreign' }), {
      productId: 'p2',
      name: 'foreign',
      price: 1.25,
    });
    const first = seen.find((s) => s.method === 'GetProduct')!;
    assert.equal(first.metadata['x-request-id'], 'to-foreign');
    assert.equal(first.metadata.traceparent, meta().traceparent);
    assert.ok(first.deadline > started && first.deadline <= started + 3_100, `grpc-timeout carried the deadline (${first.deadline - started} ms)`);
    // a status without details: named after the status, as a domain error a contract may declare
    const gone = await shop.call('catalog', 'getProduct', { productId: 'gone' }, meta()).catch((e: unknown) => e);
    assert.ok(isCaroteneError(gone, 'NOT_FOUND') && gone.domain && gone.status === 404, String(gone));
    // ErrorInfo's reason is the code, so isRejection works as with carotene-rpc/1
    const sold = await shop.call('catalog', 'reserve', { productId: 'p2', qty: 3 }, meta()).catch((e: unknown) => e);
    assert.ok(isRejection(sold, Catalog.functions.reserve, 'OUT_OF_STOCK'), String(sold));
    assert.equal((sold as { service: string }).service, 'inventory.example');
    const slow = await shop.call('catalog', 'slow', { ms: 1 }, meta(200)).catch((e: unknown) => e);
    assert.ok(isCaroteneError(slow, 'DEADLINE_EXCEEDED'), String(slow));
    const down: Registry = { ...registry, services: { catalog: { url: 'https://127.0.0.1:1', protocol: 'grpc' } } };
    const unreachable = await client('shop', down)
      .call('catalog', 'getProduct', { productId: 'p' }, meta())
      .catch((e: unknown) => e);
    assert.ok(isCaroteneError(unreachable, 'UNAVAILABLE'), String(unreachable));
  });
});

/** A google.rpc.Status with one ErrorInfo, as a server in any language writes grpc-status-details-bin. */
function statusWithErrorInfo(code: number, message: string, reason: string, domain: string): Buffer {
  const info = toBinary(ErrorInfoSchema, create(ErrorInfoSchema, { reason, domain } as never));
  const any = new BinaryWriter()
    .tag(1, WireType.LengthDelimited)
    .string(`type.googleapis.com/${ErrorInfoSchema.typeName}`)
    .tag(2, WireType.LengthDelimited)
    .bytes(info)
    .finish();
  return Buffer.from(
    new BinaryWriter()
      .tag(1, WireType.Varint)
      .int32(code)
      .tag(2, WireType.LengthDelimited)
      .string(message)
      .tag(3, WireType.LengthDelimited)
      .bytes(any)
      .finish(),
  );
}
