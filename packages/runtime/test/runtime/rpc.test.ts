import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { isCaroteneError } from '../../../carotene/src/errors.ts';
import { createLogger } from '../../src/service/logger.ts';
import { startServiceHost, type ServiceHost } from '../../src/service/service-host.ts';
import { HttpTransport } from '../../src/transport/http-transport.ts';
import type { Registry } from '../../src/transport/transport.ts';
import type { CredentialSource } from '../../src/security/credentials.ts';
import { testPki, type TestPki } from '../fixtures/certs.ts';
import fixture from '../fixtures/two-services.ts';

// Two real services on real sockets: relay calls echo over HTTPS with mutual TLS.
describe('internal calls over mutual TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carotene-rpc-'));
  const registry: { app: string; gateway: { url: string }; services: Record<string, { url: string }> } = {
    app: 'fixture',
    gateway: { url: 'http://127.0.0.1:1' },
    services: {},
  };
  let echo: ServiceHost;
  let relay: ServiceHost;
  // the test calls relay as the gateway (relay's functions are public routes) and echo as relay
  let client: HttpTransport;
  let asRelay: HttpTransport;
  let pki: TestPki;
  let raw: Agent;
  const tls = (identity: string): CredentialSource => pki.credentials(identity);
  const meta = (ms = 5_000) => ({ caller: 'ignored', requestId: `r-${Math.random()}`, deadline: Date.now() + ms });

  before(async () => {
    pki = await testPki('fixture', ['echo', 'relay', 'gateway']);
    const log = createLogger('test', 'silent');
    echo = await startServiceHost({
      app: fixture,
      service: 'echo',
      host: '127.0.0.1',
      port: 0,
      database: { file: join(dir, 'echo.sqlite') },
      transport: new HttpTransport({ caller: 'echo', registry: registry as Registry, tls: tls('echo') }),
      tls: tls('echo'),
      log,
    });
    registry.services.echo = { url: echo.url };
    relay = await startServiceHost({
      app: fixture,
      service: 'relay',
      host: '127.0.0.1',
      port: 0,
      database: { file: join(dir, 'relay.sqlite') },
      transport: new HttpTransport({ caller: 'relay', registry: registry as Registry, tls: tls('relay') }),
      tls: tls('relay'),
      log,
    });
    registry.services.relay = { url: relay.url };
    client = new HttpTransport({ caller: 'gateway', registry: registry as Registry, tls: tls('gateway') });
    asRelay = new HttpTransport({ caller: 'relay', registry: registry as Registry, tls: tls('relay') });
    // raw requests to echo, presenting relay's certificate
    const { ca, cert, key } = tls('relay').current();
    raw = new Agent({ connect: { ca, cert, key, checkServerIdentity: () => undefined } });
  });

  after(async () => {
    await client.close();
    await asRelay.close();
    await raw.close();
    await relay.close();
    await echo.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(pki.dataDir, { recursive: true, force: true });
  });

  it('carries input and output across two hops and names the caller from its certificate', async () => {
    const out = await client.call('relay', 'relay', { text: 'hello' }, meta());
    assert.deepEqual(out, { text: 'hello', caller: 'relay' });
  });

  it('delivers a declared domain error to a direct caller with its code and status', async () => {
    await assert.rejects(asRelay.call('echo', 'fail', { code: 'DOMAIN' }, meta()), (err) => {
      assert.ok(isCaroteneError(err, 'TEAPOT'));
      assert.equal(err.status, 409);
      assert.equal(err.domain, true);
      assert.equal(err.service, 'echo');
      assert.equal(err.message, 'short and stout');
      return true;
    });
  });

  it('turns a dependency domain error the handler did not handle into INTERNAL naming it', async () => {
    await assert.rejects(client.call('relay', 'relayFail', { code: 'DOMAIN' }, meta()), (err) => {
      assert.ok(isCaroteneError(err, 'INTERNAL'));
      assert.match(err.message, /relay\.relayFail did not handle echo error TEAPOT/);
      return true;
    });
  });

  it('hides the stack and message of an unexpected throw', async () => {
    const res = await request(`${echo.url}/rpc/fail`, { method: 'POST', body: JSON.stringify({ code: 'CRASH' }), dispatcher: raw });
    const body = (await res.body.json()) as { error: { code: string; message: string } };
    assert.equal(res.statusCode, 500);
    assert.equal(body.error.code, 'INTERNAL');
    assert.doesNotMatch(JSON.stringify(body), /secret internal detail|at .*\.ts/);
  });

  it('refuses an undeclared error code and output that breaks the contract', async () => {
    await assert.rejects(
      asRelay.call('echo', 'fail', { code: 'UNDECLARED' }, meta()),
      (err) => isCaroteneError(err, 'INTERNAL') && /does not declare/.test(err.message),
    );
    await assert.rejects(asRelay.call('echo', 'fail', { code: 'BAD_OUTPUT' }, meta()), (err) => isCaroteneError(err, 'INVALID_OUTPUT'));
  });

  it('validates input on arrival with the offending path', async () => {
    await assert.rejects(asRelay.call('echo', 'echo', { text: 42 }, meta()), (err) => {
      assert.ok(isCaroteneError(err, 'INVALID_INPUT'));
      assert.equal(err.status, 400);
      assert.match(err.message, /text:/);
      return true;
    });
  });

  it('answers malformed JSON, unknown functions and oversized bodies with typed errors, and keeps serving', async () => {
    const bad = await request(`${echo.url}/rpc/echo`, { method: 'POST', body: '{"text": ', dispatcher: raw });
    assert.equal(bad.statusCode, 400);
    assert.equal(((await bad.body.json()) as { error: { code: string } }).error.code, 'MALFORMED_REQUEST');
    const unknown = await request(`${echo.url}/rpc/nope`, { method: 'POST', body: '{}', dispatcher: raw });
    assert.equal(unknown.statusCode, 404);
    assert.equal(((await unknown.body.json()) as { error: { code: string } }).error.code, 'UNKNOWN_FUNCTION');
    const huge = await request(`${echo.url}/rpc/echo`, { method: 'POST', body: JSON.stringify({ text: 'x'.repeat(5 * 1024 * 1024) }), dispatcher: raw });
    assert.equal(huge.statusCode, 413);
    await huge.body.dump();
    assert.deepEqual(await asRelay.call('echo', 'echo', { text: 'still here' }, meta()), { text: 'still here', caller: 'relay' });
  });

  it('propagates the deadline: the callee inherits what is left of the caller', async () => {
    const out = (await client.call('relay', 'relaySlow', { ms: 1 }, meta(2_000))) as { myDeadline: number; theirDeadline: number };
    // the budget travels as time left, so the time in flight (a TLS handshake, a busy machine) is
    // not subtracted; without propagation the callee would get 60 s (its own timeoutMs) instead
    assert.ok(out.theirDeadline <= out.myDeadline + 250, `callee deadline ${out.theirDeadline} should not exceed caller's ${out.myDeadline}`);
    assert.ok(out.myDeadline <= Date.now() + 2_000);
  });

  it('fails with DEADLINE_EXCEEDED when the callee is slower than the deadline', async () => {
    const started = Date.now();
    await assert.rejects(client.call('relay', 'relaySlow', { ms: 3_000 }, meta(300)), (err) => isCaroteneError(err, 'DEADLINE_EXCEEDED'));
    assert.ok(Date.now() - started < 1_500, 'the caller gave up at its deadline');
  });

  it('refuses at run time a call that escaped the types', async () => {
    await assert.rejects(client.call('relay', 'sneaky', {}, meta()), (err) => {
      assert.ok(isCaroteneError(err, 'INTERNAL'));
      assert.equal(err.status, 500);
      assert.match(err.message, /relay\.sneaky may not call 'echo'/);
      return true;
    });
  });

  it('reports UNAVAILABLE for a service that is not listening', async () => {
    const dead = new HttpTransport({
      caller: 'gateway',
      registry: { app: 'fixture', gateway: { url: '' }, services: { ghost: { url: 'https://127.0.0.1:1' } } },
      tls: tls('gateway'),
    });
    await assert.rejects(dead.call('ghost', 'echo', {}, meta()), (err) => isCaroteneError(err, 'UNAVAILABLE') && /ghost is unreachable/.test(err.message));
    await assert.rejects(dead.call('nobody', 'echo', {}, meta()), (err) => isCaroteneError(err, 'UNAVAILABLE'));
    await dead.close();
  });

  it('serves /health and /ready', async () => {
    const health = await request(`${echo.url}/health`, { dispatcher: raw });
    assert.deepEqual(await health.body.json(), { status: 'ok', service: 'echo' });
    const ready = await request(`${echo.url}/ready`, { dispatcher: raw });
    assert.equal(ready.statusCode, 200);
    assert.equal(((await ready.body.json()) as { status: string }).status, 'ready');
  });

  it('finishes calls in flight when it shuts down', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'carotene-drain-'));
    const host = await startServiceHost({
      app: fixture,
      service: 'echo',
      host: '127.0.0.1',
      port: 0,
      database: { file: join(dir2, 'echo.sqlite') },
      transport: new HttpTransport({ caller: 'echo', registry: registry as Registry, tls: tls('echo') }),
      tls: tls('echo'),
      log: createLogger('test', 'silent'),
    });
    const c = new HttpTransport({
      caller: 'relay',
      registry: { app: 'fixture', gateway: { url: '' }, services: { echo: { url: host.url } } },
      tls: tls('relay'),
    });
    const pending = c.call('echo', 'slow', { ms: 300 }, meta());
    await new Promise((r) => setTimeout(r, 50));
    await host.close();
    assert.ok(((await pending) as { deadline: number }).deadline > 0, 'the in-flight call completed');
    await assert.rejects(c.call('echo', 'slow', { ms: 1 }, meta()), (err) => isCaroteneError(err, 'UNAVAILABLE'));
    await c.close();
    rmSync(dir2, { recursive: true, force: true });
  });
});
