// carotene-rpc/1 on real sockets: ALPN beside HTTP/1.1 on one port, identity, limits, bad
// frames, deadlines, faults, failover, drain, and a callee process killed with calls in flight.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { connect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { isCaroteneError } from '../../../carotene/src/errors.ts';
import { FaultInjector, installFaults } from '../../src/resilience/fault-injector.ts';
import { createLogger } from '../../src/service/logger.ts';
import { startServiceHost, type ServiceHost } from '../../src/service/service-host.ts';
import { encodeCall, encodeControl, FRAME, FrameReader, RPC_ALPN, type Frame } from '../../src/transport/frames.ts';
import { DeadlineSweep } from '../../src/transport/deadline-sweep.ts';
import { HttpTransport } from '../../src/transport/http-transport.ts';
import { RpcPeer } from '../../src/transport/rpc-peer.ts';
import type { Registry } from '../../src/transport/transport.ts';
import { testPki, type TestPki } from '../fixtures/certs.ts';
import fixture from '../fixtures/two-services.ts';

const here = new URL('.', import.meta.url).pathname;

/** A hand-driven carotene-rpc/1 connection: send raw bytes, read the frames that come back. */
async function rawConnection(port: number, creds: { ca: string; cert: string; key: string }) {
  const socket: TLSSocket = connect({ host: '127.0.0.1', port, ...creds, ALPNProtocols: [RPC_ALPN], checkServerIdentity: () => undefined });
  const frames: Frame[] = [];
  const waiters: Array<() => void> = [];
  const reader = new FrameReader(64 * 1024 * 1024, {
    frame: (f) => {
      frames.push(f);
      for (const w of waiters.splice(0)) w();
    },
    oversize: () => assert.fail('oversize frame from the server'),
    malformed: (reason) => assert.fail(reason),
  });
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  assert.equal(socket.alpnProtocol, RPC_ALPN);
  const next = async (): Promise<Frame> => {
    while (frames.length === 0) await new Promise<void>((resolve) => waiters.push(resolve));
    return frames.shift()!;
  };
  const reply = async () => {
    const f = await next();
    assert.equal(f.type, FRAME.REPLY);
    const text = f.payload.toString('utf8', 2);
    return { id: f.id, status: f.payload.readUInt16BE(0), body: text ? (JSON.parse(text) as { error: { code: string; message: string } }) : undefined };
  };
  return { socket, next, reply, closed };
}

describe('carotene-rpc/1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carotene-rpc-'));
  const registry: { app: string; gateway: { url: string }; services: Record<string, unknown> } = { app: 'fixture', gateway: { url: '' }, services: {} };
  const log = createLogger('test', 'silent');
  const clients: HttpTransport[] = [];
  let pki: TestPki;
  let echo: ServiceHost;
  let port: number;
  const meta = (ms = 5_000) => ({ caller: 'relay', requestId: `r-${Math.random().toString(36).slice(2)}`, deadline: Date.now() + ms });
  const client = (reg: Registry = registry as Registry, identity = 'relay'): HttpTransport => {
    const c = new HttpTransport({ caller: identity, registry: reg, tls: pki.credentials(identity) });
    clients.push(c);
    return c;
  };
  const creds = (identity: string) => pki.credentials(identity).current();

  before(async () => {
    pki = await testPki('fixture', ['echo', 'relay', 'gateway']);
    echo = await startServiceHost({
      app: fixture,
      service: 'echo',
      host: '127.0.0.1',
      port: 0,
      database: { file: join(dir, 'echo.sqlite') },
      transport: client(registry as Registry, 'echo'),
      tls: pki.credentials('echo'),
      log,
    });
    registry.services.echo = { url: echo.url };
    port = Number(new URL(echo.url).port);
  });

  after(async () => {
    for (const c of clients) await c.close();
    await echo.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(pki.dataDir, { recursive: true, force: true });
  });

  it('serves HTTP/1.1 (keep-alive, caller from the certificate) and frames on the same port', async () => {
    // two requests on one kept-alive HTTP/1.1 socket (ALPN http/1.1) both get their answer
    const socket = connect({ host: '127.0.0.1', port, ...creds('relay'), ALPNProtocols: ['http/1.1'], checkServerIdentity: () => undefined });
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    assert.equal(socket.alpnProtocol, 'http/1.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\nGET /health HTTP/1.1\r\nhost: x\r\n\r\n');
    while ((text.match(/HTTP\/1\.1 200 OK/g) ?? []).length < 2) await new Promise((r) => setTimeout(r, 10));
    assert.ok(!socket.destroyed && !/connection: close/i.test(text), text);
    socket.destroy();
    // and a client without ALPN (curl --no-alpn, older callers) gets HTTP
    const agent = new Agent({ connect: { ...creds('relay'), checkServerIdentity: () => undefined } });
    const res = await request(`${echo.url}/rpc/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"text":"over http"}',
      dispatcher: agent,
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await res.body.json(), { text: 'over http', caller: 'relay' });
    await agent.close();
    assert.deepEqual(await client().call('echo', 'echo', { text: 'over frames' }, meta()), { text: 'over frames', caller: 'relay' });
  });

  it('takes the caller from the certificate, never from the frame', async () => {
    const raw = await rawConnection(port, creds('relay'));
    const head = { fn: 'echo', timeout: 5_000, requestId: 'spoof-1', caller: 'gateway' } as never;
    raw.socket.write(encodeCall(7, head, '{"text":"who am i"}'));
    const answer = await raw.reply();
    assert.equal(answer.id, 7);
    assert.deepEqual(answer.body, { text: 'who am i', caller: 'relay' });
    raw.socket.destroy();
  });

  it('answers an undeclared caller CALLER_NOT_ALLOWED (403) over frames', async () => {
    await assert.rejects(client(registry as Registry, 'gateway').call('echo', 'echo', { text: 'x' }, meta()), (err) => {
      assert.ok(isCaroteneError(err, 'CALLER_NOT_ALLOWED'));
      assert.equal(err.status, 403);
      return true;
    });
  });

  it('multiplexes calls on one connection, replies out of order, typed errors as over HTTP', async () => {
    const c = client();
    const slow = c.call('echo', 'slow', { ms: 150 }, meta());
    const fast = await c.call('echo', 'echo', { text: 'fast' }, meta());
    assert.deepEqual(fast, { text: 'fast', caller: 'relay' });
    assert.equal(typeof ((await slow) as { deadline: number }).deadline, 'number');
    await assert.rejects(
      c.call('echo', 'fail', { code: 'DOMAIN' }, meta()),
      (err) => isCaroteneError(err, 'TEAPOT') && err.domain && err.status === 409 && err.service === 'echo',
    );
    await assert.rejects(c.call('echo', 'fail', { code: 'CRASH' }, meta()), (err) => isCaroteneError(err, 'INTERNAL') && !/secret/.test(err.message));
    await assert.rejects(c.call('echo', 'echo', { text: 5 }, meta()), (err) => isCaroteneError(err, 'INVALID_INPUT'));
    const many = await Promise.all(Array.from({ length: 200 }, (_, i) => c.call('echo', 'echo', { text: `n${i}` }, meta())));
    assert.deepEqual(
      many.map((m) => (m as { text: string }).text),
      Array.from({ length: 200 }, (_, i) => `n${i}`),
    );
  });

  it('carries the deadline as time left, and the caller stops waiting at it', async () => {
    const c = client();
    const started = Date.now();
    const { deadline } = (await c.call('echo', 'slow', { ms: 0 }, meta(2_000))) as { deadline: number };
    assert.ok(deadline > started + 1_500 && deadline <= Date.now() + 2_000, `callee deadline ${deadline - started} ms after the call`);
    const t0 = Date.now();
    await assert.rejects(c.call('echo', 'slow', { ms: 1_000 }, meta(100)), (err) => isCaroteneError(err, 'DEADLINE_EXCEEDED'));
    const waited = Date.now() - t0;
    assert.ok(waited >= 95 && waited < 400, `gave up after ${waited} ms`);
  });

  it('gives up on a server that never answers: the call at its deadline, a ping after its time', { timeout: 5_000 }, async () => {
    const hung = createTlsServer(
      { ...creds('echo'), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3', ALPNProtocols: [RPC_ALPN] },
      (socket) => socket.resume(),
    );
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(hung.address() as AddressInfo).port}`;
    try {
      const c = client({ app: 'fixture', gateway: { url: '' }, services: { echo: { url } } });
      const t0 = Date.now();
      await assert.rejects(c.call('echo', 'echo', { text: 'x' }, meta(150)), (err) => isCaroteneError(err, 'DEADLINE_EXCEEDED'));
      assert.ok(Date.now() - t0 < 500, `gave up after ${Date.now() - t0} ms`);
      const sweep = new DeadlineSweep();
      const peer = new RpcPeer({ url, connections: 1, sweep, tls: { ...creds('relay'), checkServerIdentity: () => undefined } });
      const t1 = Date.now();
      assert.equal(await peer.ping(100), false);
      assert.ok(Date.now() - t1 < 500, `the ping gave up after ${Date.now() - t1} ms`);
      await peer.drain();
      sweep.stop();
    } finally {
      hung.close();
    }
  });

  it('answers a call over the body limit PAYLOAD_TOO_LARGE and keeps the connection', async () => {
    const raw = await rawConnection(port, creds('relay'));
    raw.socket.write(encodeCall(1, { fn: 'echo', timeout: 5_000, requestId: 'big' }, JSON.stringify({ text: 'x'.repeat(5 * 1024 * 1024) })));
    raw.socket.write(encodeCall(2, { fn: 'echo', timeout: 5_000, requestId: 'small' }, '{"text":"after"}'));
    const [first, second] = [await raw.reply(), await raw.reply()];
    assert.equal(first.id, 1);
    assert.equal(first.status, 413);
    assert.equal(first.body?.error.code, 'PAYLOAD_TOO_LARGE');
    assert.deepEqual(second.body, { text: 'after', caller: 'relay' });
    raw.socket.destroy();
    // through the transport too
    await assert.rejects(client().call('echo', 'echo', { text: 'y'.repeat(5 * 1024 * 1024) }, meta()), (err) => isCaroteneError(err, 'PAYLOAD_TOO_LARGE'));
  });

  it('answers bad JSON input MALFORMED_REQUEST; closes a connection that sends bytes that are not frames, and only that one', async () => {
    const raw = await rawConnection(port, creds('relay'));
    raw.socket.write(encodeCall(3, { fn: 'echo', timeout: 5_000, requestId: 'bad-json' }, '{"text":'));
    const bad = await raw.reply();
    assert.equal(bad.body?.error.code, 'MALFORMED_REQUEST');

    const c = client();
    const inFlight = c.call('echo', 'slow', { ms: 200 }, meta());
    const garbage = Buffer.from('GET / HTTP/1.1\r\n\r\n');
    raw.socket.write(garbage);
    const goaway = await raw.next();
    assert.equal(goaway.type, FRAME.GOAWAY);
    assert.match(goaway.payload.toString(), /MALFORMED_REQUEST.*carotene-rpc\/1: .*the connection is closed/);
    await raw.closed;
    const other = await rawConnection(port, creds('relay'));
    other.socket.write(encodeControl(FRAME.PING, 9));
    assert.deepEqual([(await other.next()).type], [FRAME.PONG]);
    other.socket.write(encodeCall(1, 'not an object' as never, ''));
    assert.equal((await other.next()).type, FRAME.GOAWAY);
    assert.ok(await inFlight, 'a call on another connection is unaffected');
    assert.deepEqual(await c.call('echo', 'echo', { text: 'still up' }, meta()), { text: 'still up', caller: 'relay' });
  });

  it('a dropped call (fault injection) fails UNAVAILABLE; the next call reconnects', async () => {
    installFaults(new FaultInjector([{ service: 'echo', function: 'echo', kind: 'drop', limit: 1 }]));
    try {
      const c = client();
      await assert.rejects(c.call('echo', 'echo', { text: 'lost' }, meta()), (err) => isCaroteneError(err, 'UNAVAILABLE') && /unreachable/.test(err.message));
      assert.deepEqual(await c.call('echo', 'echo', { text: 'again' }, meta()), { text: 'again', caller: 'relay' });
    } finally {
      installFaults(undefined);
    }
  });

  it('opens new connections when the credentials rotate; calls in flight finish on the old one', async () => {
    let current = creds('relay');
    const listeners: Array<(c: typeof current) => void> = [];
    const source = { current: () => current, onChange: (l: (c: typeof current) => void) => (listeners.push(l), () => undefined), close: () => undefined };
    const c = new HttpTransport({ caller: 'relay', registry: registry as Registry, tls: source });
    clients.push(c);
    const inFlight = c.call('echo', 'slow', { ms: 200 }, meta());
    await new Promise((r) => setTimeout(r, 50));
    // a certificate of another identity makes the change visible to the callee
    current = creds('gateway');
    for (const l of listeners) l(current);
    await assert.rejects(
      c.call('echo', 'echo', { text: 'x' }, meta()),
      (err) => isCaroteneError(err, 'CALLER_NOT_ALLOWED') && /'gateway' may not call/.test(err.message),
    );
    assert.equal(typeof ((await inFlight) as { deadline: number }).deadline, 'number', 'the call on the old connection was answered');
  });

  it('calls a server that does not speak carotene-rpc/1 (an older Carotene) over HTTP/1.1, checking its identity', async () => {
    const seen: Array<Record<string, unknown>> = [];
    const oldServer = (identity: string) =>
      createServer({ ...creds(identity), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (req, res) => {
        seen.push({ method: req.method, url: req.url, ...req.headers });
        req.resume();
        req.on('end', () => {
          if (req.url === '/rpc/fail') {
            res.writeHead(409, { 'content-type': 'application/json' }).end('{"error":{"code":"TEAPOT","message":"short and stout","domain":true}}');
          } else res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"old","caller":"relay"}');
        });
      });
    const listen = async (server: ReturnType<typeof createServer>) => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    const old = oldServer('echo');
    const impostor = oldServer('relay');
    try {
      const c = client({ app: 'fixture', gateway: { url: '' }, services: { echo: { url: await listen(old) } } });
      const [a, b] = await Promise.all([
        c.call('echo', 'echo', { text: 'x' }, { ...meta(), idempotencyKey: 'k-1' }),
        c.call('echo', 'echo', { text: 'y' }, meta()),
      ]);
      assert.deepEqual(
        [a, b],
        [
          { text: 'old', caller: 'relay' },
          { text: 'old', caller: 'relay' },
        ],
      );
      assert.equal(seen[0]!.url, '/rpc/echo');
      assert.equal(seen[0]!['idempotency-key'], 'k-1');
      assert.ok(Number(seen[0]!['carotene-timeout']) > 4_000);
      await assert.rejects(c.call('echo', 'fail', { code: 'DOMAIN' }, meta()), (err) => isCaroteneError(err, 'TEAPOT') && err.status === 409 && err.domain);
      const wrong = client({ app: 'fixture', gateway: { url: '' }, services: { echo: { url: await listen(impostor) } } });
      await assert.rejects(
        wrong.call('echo', 'echo', { text: 'secret' }, meta()),
        (err) => isCaroteneError(err, 'UNAVAILABLE') && /is not spiffe:\/\/fixture\/echo/.test(err.message),
      );
      assert.equal(seen.length, 3, 'the impostor got no call');
    } finally {
      old.close();
      impostor.close();
    }
  });

  it('fails over when an instance refuses the connection, and re-admits it when it answers again', async () => {
    const changes: string[] = [];
    const dead = 'https://127.0.0.1:1';
    const reg = { app: 'fixture', gateway: { url: '' }, services: { echo: { url: dead, instances: [{ url: dead }, { url: echo.url }] } } };
    const c = new HttpTransport({
      caller: 'relay',
      registry: reg,
      tls: pki.credentials('relay'),
      onInstanceChange: (e) => changes.push(`${e.url} ${e.ejected ? 'out' : 'in'}`),
    });
    clients.push(c);
    for (let i = 0; i < 6; i++) assert.deepEqual(await c.call('echo', 'echo', { text: `t${i}` }, meta()), { text: `t${i}`, caller: 'relay' });
    assert.deepEqual(changes, [`${dead} out`]);
  });

  it('ejects an instance that went away and re-admits it once it answers a ping again', async () => {
    const start = (port: number) =>
      startServiceHost({
        app: fixture,
        service: 'echo',
        host: '127.0.0.1',
        port,
        database: { file: join(dir, 'echo-b.sqlite') },
        transport: client(registry as Registry, 'echo'),
        tls: pki.credentials('echo'),
        log,
      });
    let b = await start(0);
    const changes: string[] = [];
    const reg = { app: 'fixture', gateway: { url: '' }, services: { echo: { url: b.url, instances: [{ url: b.url }, { url: echo.url }] } } };
    const c = new HttpTransport({
      caller: 'relay',
      registry: reg,
      tls: pki.credentials('relay'),
      onInstanceChange: (e) => changes.push(`${e.url} ${e.ejected ? 'out' : 'in'}`),
    });
    clients.push(c);
    for (let i = 0; i < 10; i++) await c.call('echo', 'echo', { text: 'both' }, meta());
    await b.close();
    for (let i = 0; i < 10; i++) assert.deepEqual(await c.call('echo', 'echo', { text: 'one' }, meta()), { text: 'one', caller: 'relay' });
    assert.deepEqual(changes, [`${b.url} out`]);
    b = await start(Number(new URL(b.url).port));
    const until = Date.now() + 5_000;
    while (changes.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(changes, [`${b.url} out`, `${b.url} in`]);
    await b.close();
  });

  it('drains on shutdown: calls in flight finish, then new calls go elsewhere or fail UNAVAILABLE', async () => {
    const other = await startServiceHost({
      app: fixture,
      service: 'echo',
      host: '127.0.0.1',
      port: 0,
      database: { file: join(dir, 'echo-2.sqlite') },
      transport: client(registry as Registry, 'echo'),
      tls: pki.credentials('echo'),
      log,
    });
    const c = client({ app: 'fixture', gateway: { url: '' }, services: { echo: { url: other.url } } });
    await c.call('echo', 'echo', { text: 'warm' }, meta());
    const inFlight = c.call('echo', 'slow', { ms: 300 }, meta());
    await new Promise((r) => setTimeout(r, 50));
    const closing = other.close();
    assert.equal(typeof ((await inFlight) as { deadline: number }).deadline, 'number', 'the call in flight was answered');
    await closing;
    await assert.rejects(c.call('echo', 'echo', { text: 'late' }, meta()), (err) => isCaroteneError(err, 'UNAVAILABLE'));
  });

  it('fails calls in flight UNAVAILABLE at once when the callee process is killed', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'echo-process.ts'), pki.dataDir, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [url] = await createInterface({ input: child.stdout! })
        [Symbol.asyncIterator]()
        .next()
        .then((r) => [String(r.value)]);
      const c = client({ app: 'fixture', gateway: { url: '' }, services: { echo: { url: url! } } });
      await c.call('echo', 'echo', { text: 'alive' }, meta());
      const calls = Array.from({ length: 20 }, () =>
        c.call('echo', 'slow', { ms: 3_000 }, meta(10_000)).then(
          () => 'answered',
          (err: unknown) => err,
        ),
      );
      await new Promise((r) => setTimeout(r, 200));
      const killedAt = Date.now();
      child.kill('SIGKILL');
      const outcomes = await Promise.all(calls);
      assert.ok(Date.now() - killedAt < 1_000, `the calls failed ${Date.now() - killedAt} ms after the kill`);
      for (const o of outcomes) assert.ok(isCaroteneError(o, 'UNAVAILABLE'), String(o));
      await assert.rejects(
        c.call('echo', 'echo', { text: 'gone' }, meta()),
        (err) => isCaroteneError(err, 'UNAVAILABLE') && /ECONNREFUSED|ECONNRESET/.test(err.message),
      );
    } finally {
      child.kill('SIGKILL');
    }
  });
});
