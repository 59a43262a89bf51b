import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { app, contract, handler, implement, rpc } from '../../carotene/src/index.ts';
import { CaroteneError, platformError } from '../../carotene/src/errors.ts';
import { createGateway } from '../src/index.ts';
import { captureLogger, FakeTransport, testApp, things, users } from './fixtures.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NOW = 1_750_000_000_000;

function setup(answers: ConstructorParameters<typeof FakeTransport>[0] = {}, gateway = {}) {
  const transport = new FakeTransport(answers);
  const { logger, lines } = captureLogger();
  const gw = createGateway({ app: testApp(gateway), transport, logger, now: () => NOW });
  return { gw, transport, lines, server: gw.server };
}

describe('gateway routing', () => {
  it('merges query, body and path params (params win) and answers with the route status', async () => {
    const { server, transport } = setup({ 'things.createThing': (input) => ({ created: input }) });
    const res = await server.inject({
      method: 'POST',
      url: '/api/things/p1?source=web&name=from-query&id=evil-query',
      payload: { name: 'Widget', id: 'evil-body' },
    });
    assert.equal(res.statusCode, 201);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const expected = { source: 'web', name: 'Widget', id: 'p1' };
    assert.deepEqual(res.json(), { created: expected });
    assert.equal(transport.calls.length, 1);
    const call = transport.calls[0]!;
    assert.equal(call.service, 'things');
    assert.equal(call.fn, 'createThing');
    assert.deepEqual(call.input, expected);
  });

  it('passes query values on a GET, repeated keys as arrays', async () => {
    const { server, transport } = setup({ 'things.listThings': () => [{ id: 'a' }] });
    const res = await server.inject({ method: 'GET', url: '/api/things?limit=5&tag=x&tag=y' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), [{ id: 'a' }]);
    assert.deepEqual(transport.calls[0]!.input, { limit: '5', tag: ['x', 'y'] });
  });

  it('sends meta with caller gateway, the request id and a deadline from the app timeout', async () => {
    const { server, transport } = setup({ 'things.listThings': () => [] }, { timeoutMs: 2500 });
    const res = await server.inject({ method: 'GET', url: '/api/things' });
    const meta = transport.calls[0]!.meta;
    assert.equal(meta.caller, 'gateway');
    assert.equal(meta.requestId, res.headers['x-request-id']);
    assert.equal(meta.deadline, NOW + 2500);
    assert.equal(meta.auth, undefined);
  });

  it('uses a 10 s deadline by default', async () => {
    const { server, transport } = setup({ 'things.listThings': () => [] });
    await server.inject({ method: 'GET', url: '/api/things' });
    assert.equal(transport.calls[0]!.meta.deadline, NOW + 10_000);
  });

  it('answers 204 with no body', async () => {
    const { server, transport } = setup({ 'things.deleteThing': () => undefined });
    const res = await server.inject({ method: 'DELETE', url: '/api/things/p1' });
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, '');
    assert.deepEqual(transport.calls[0]!.input, { id: 'p1' });
  });

  it('sends a string output as JSON, not as text', async () => {
    const { server } = setup({ 'things.greet': () => 'hello stranger' });
    const res = await server.inject({ method: 'GET', url: '/api/greeting' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(res.body, '"hello stranger"');
  });

  it('answers an unknown route 404 with ROUTE_NOT_FOUND and the request id', async () => {
    const { server, transport } = setup();
    const res = await server.inject({ method: 'GET', url: '/x?secret=1' });
    assert.equal(res.statusCode, 404);
    const requestId = res.headers['x-request-id'];
    assert.match(String(requestId), UUID);
    assert.deepEqual(res.json(), { error: { code: 'ROUTE_NOT_FOUND', message: 'No route GET /x', requestId } });
    assert.equal(transport.calls.length, 0);
  });

  it('answers a known path with the wrong method 404', async () => {
    const { server } = setup();
    const res = await server.inject({ method: 'PATCH', url: '/api/things/p1', payload: {} });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.message, 'No route PATCH /api/things/p1');
  });

  it('refuses to start when a route takes a path of its own probes', () => {
    const Probe = contract('probe', { health: rpc({ input: z.object({}), output: z.string() }) });
    const probe = implement(Probe).handlers({ health: handler({ route: 'GET /health' }, async () => 'mine') });
    assert.throws(
      () => createGateway({ app: app({ name: 'p', services: [probe] }), transport: new FakeTransport() }),
      (err: unknown) => err instanceof CaroteneError && err.code === 'INVALID_CONFIG' && /collides with the gateway's own \/health/.test(err.message),
    );
  });
});

describe('gateway request ids', () => {
  it('echoes a well-formed incoming x-request-id and passes it on', async () => {
    const { server, transport } = setup({ 'things.listThings': () => [] });
    const res = await server.inject({ method: 'GET', url: '/api/things', headers: { 'x-request-id': 'req:abc-123.4_5' } });
    assert.equal(res.headers['x-request-id'], 'req:abc-123.4_5');
    assert.equal(transport.calls[0]!.meta.requestId, 'req:abc-123.4_5');
  });

  it('replaces a malformed or oversized x-request-id with a fresh UUID', async () => {
    const { server, transport } = setup({ 'things.listThings': () => [] });
    for (const bad of ['has space', 'x'.repeat(129), 'semi;colon', '']) {
      const res = await server.inject({ method: 'GET', url: '/api/things', headers: { 'x-request-id': bad } });
      assert.match(String(res.headers['x-request-id']), UUID, `for ${JSON.stringify(bad)}`);
    }
    const ids = new Set(transport.calls.map((c) => c.meta.requestId));
    assert.equal(ids.size, 4, 'each request gets its own id');
  });

  it('puts the request id on error answers too', async () => {
    const { server } = setup();
    const res = await server.inject({
      method: 'POST',
      url: '/api/things/p1',
      headers: { 'content-type': 'application/json', 'x-request-id': 'r-1' },
      payload: '{',
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.headers['x-request-id'], 'r-1');
    assert.equal(res.json().error.requestId, 'r-1');
  });
});

describe('gateway request bodies', () => {
  it('answers malformed JSON 400 MALFORMED_REQUEST without calling the service', async () => {
    const { server, transport } = setup({ 'things.createThing': () => ({}) });
    const res = await server.inject({ method: 'POST', url: '/api/things/p1', headers: { 'content-type': 'application/json' }, payload: '{"name": ' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'MALFORMED_REQUEST');
    assert.match(res.json().error.message, /not valid JSON/);
    assert.equal(transport.calls.length, 0);
  });

  it('refuses a JSON body that is not an object', async () => {
    const { server, transport } = setup({ 'things.createThing': () => ({}) });
    for (const [payload, what] of [
      ['[1,2]', 'an array'],
      ['"text"', 'a string'],
      ['null', 'null'],
      ['42', 'a number'],
    ] as const) {
      const res = await server.inject({ method: 'POST', url: '/api/things/p1', headers: { 'content-type': 'application/json' }, payload });
      assert.equal(res.statusCode, 400, payload);
      assert.equal(res.json().error.code, 'MALFORMED_REQUEST');
      assert.equal(res.json().error.message, `Request body must be a JSON object, got ${what}`);
    }
    assert.equal(transport.calls.length, 0);
  });

  it('refuses prototype-polluting keys', async () => {
    const { server, transport } = setup({ 'things.createThing': () => ({}) });
    const res = await server.inject({
      method: 'POST',
      url: '/api/things/p1',
      headers: { 'content-type': 'application/json' },
      payload: '{"__proto__": {"admin": true}}',
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'MALFORMED_REQUEST');
    assert.equal(transport.calls.length, 0);
  });

  it('answers a body that is not JSON 415 with a JSON error', async () => {
    const { server, transport } = setup({ 'things.createThing': () => ({}) });
    const res = await server.inject({ method: 'POST', url: '/api/things/p1', headers: { 'content-type': 'text/plain' }, payload: 'name=x' });
    assert.equal(res.statusCode, 415);
    assert.equal(res.json().error.code, 'MALFORMED_REQUEST');
    assert.match(res.json().error.message, /Content-Type 'text\/plain' is not supported/);
    assert.equal(transport.calls.length, 0);
  });

  it('answers a 2 MiB body 413 PAYLOAD_TOO_LARGE under the default 1 MiB limit', async () => {
    const { server, transport } = setup({ 'things.createThing': () => ({}) });
    const payload = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });
    const res = await server.inject({ method: 'POST', url: '/api/things/p1', headers: { 'content-type': 'application/json' }, payload });
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().error.code, 'PAYLOAD_TOO_LARGE');
    assert.match(res.json().error.message, /1048576 bytes/);
    assert.equal(transport.calls.length, 0);
    const ok = await server.inject({ method: 'POST', url: '/api/things/p1', payload: { name: 'x'.repeat(512 * 1024) } });
    assert.equal(ok.statusCode, 201, 'a body under the limit still passes');
  });

  it('honours a smaller app bodyLimit', async () => {
    const { server } = setup({ 'things.createThing': () => ({}) }, { bodyLimit: 100 });
    const res = await server.inject({ method: 'POST', url: '/api/things/p1', payload: { name: 'x'.repeat(200) } });
    assert.equal(res.statusCode, 413);
    assert.match(res.json().error.message, /100 bytes/);
  });

  it('accepts a POST without a body', async () => {
    const { server, transport } = setup({ 'things.createThing': () => ({ ok: true }) });
    const res = await server.inject({ method: 'POST', url: '/api/things/p1?name=q' });
    assert.equal(res.statusCode, 201);
    assert.deepEqual(transport.calls[0]!.input, { name: 'q', id: 'p1' });
  });
});

describe('gateway errors', () => {
  it('passes a domain error through with its declared status, code, message and details', async () => {
    const { server } = setup({
      'things.createThing': () => {
        throw new CaroteneError('ALREADY_EXISTS', 'Thing p1 already exists', { status: 409, domain: true, service: 'things', details: { id: 'p1' } });
      },
    });
    const res = await server.inject({ method: 'POST', url: '/api/things/p1', payload: { name: 'x' }, headers: { 'x-request-id': 'r-409' } });
    assert.equal(res.statusCode, 409);
    assert.deepEqual(res.json(), { error: { code: 'ALREADY_EXISTS', message: 'Thing p1 already exists', requestId: 'r-409', details: { id: 'p1' } } });
  });

  it('passes a callee validation error through as 400 with its details', async () => {
    const issues = [{ path: ['name'], message: 'Required' }];
    const { server } = setup({
      'things.createThing': () => {
        throw platformError('INVALID_INPUT', 'input.name: Required', { service: 'things', details: issues });
      },
    });
    const res = await server.inject({ method: 'POST', url: '/api/things/p1', payload: {} });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'INVALID_INPUT');
    assert.deepEqual(res.json().error.details, issues);
  });

  it('turns a non-Carotene throw into 500 INTERNAL without a stack, and logs the stack', async () => {
    const { server, lines } = setup({
      'things.listThings': () => {
        throw new TypeError('cannot read properties of undefined (reading secretColumn)');
      },
    });
    const res = await server.inject({ method: 'GET', url: '/api/things', headers: { 'x-request-id': 'r-500' } });
    assert.equal(res.statusCode, 500);
    const body = res.json();
    assert.equal(body.error.code, 'INTERNAL');
    assert.equal(body.error.requestId, 'r-500');
    assert.doesNotMatch(res.body, /secretColumn|TypeError|at .*\.ts/);
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'requestId']);
    const logged = lines.find((l) => l['msg'] === 'unexpected error while serving a request');
    assert.ok(logged, 'the failure is logged');
    assert.equal(logged['requestId'], 'r-500');
    assert.match(String((logged['err'] as { stack?: string }).stack), /secretColumn/);
  });

  it('hides the message of an internal failure behind the gateway but keeps code and status', async () => {
    const { server, lines } = setup({
      'things.listThings': () => {
        throw platformError('UNAVAILABLE', 'things is unreachable (ECONNREFUSED 10.1.2.3:4001)', { service: 'things' });
      },
    });
    const res = await server.inject({ method: 'GET', url: '/api/things' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().error.code, 'UNAVAILABLE');
    assert.doesNotMatch(res.body, /10\.1\.2\.3/);
    assert.ok(
      lines.some((l) => l['code'] === 'UNAVAILABLE' && /10\.1\.2\.3/.test(String(l['message']))),
      'the real message is logged',
    );
  });

  it('answers 504 DEADLINE_EXCEEDED when the transport does not answer in time', async () => {
    const { server } = setup({ 'things.listThings': () => new Promise(() => {}) }, { timeoutMs: 30 });
    const started = Date.now();
    const res = await server.inject({ method: 'GET', url: '/api/things' });
    assert.equal(res.statusCode, 504);
    assert.equal(res.json().error.code, 'DEADLINE_EXCEEDED');
    assert.ok(Date.now() - started < 2000);
  });

  it('keeps serving after each bad request', async () => {
    const { server } = setup({
      'things.listThings': () => [{ id: 'still-here' }],
      'things.createThing': () => {
        throw new Error('boom');
      },
    });
    const bad = [
      { method: 'POST' as const, url: '/api/things/p1', headers: { 'content-type': 'application/json' }, payload: '{' },
      { method: 'POST' as const, url: '/api/things/p1', payload: { name: 'x' } },
      { method: 'GET' as const, url: '/nowhere' },
      { method: 'POST' as const, url: '/api/things/p1', headers: { 'content-type': 'application/json' }, payload: 'x'.repeat(2 * 1024 * 1024) },
    ];
    for (const req of bad) {
      const res = await server.inject(req);
      assert.ok(res.statusCode >= 400, `${req.method} ${req.url} fails`);
      const good = await server.inject({ method: 'GET', url: '/api/things' });
      assert.equal(good.statusCode, 200);
      assert.deepEqual(good.json(), [{ id: 'still-here' }]);
    }
  });
});

describe('gateway probes and logs', () => {
  it('answers /health always and /ready only while listening', async () => {
    const { server, transport } = setup();
    const health = await server.inject({ method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 200);
    assert.deepEqual(health.json(), { status: 'ok' });
    const ready = await server.inject({ method: 'GET', url: '/ready' });
    assert.equal(ready.statusCode, 503, 'not listening yet');
    assert.equal(transport.calls.length, 0);
  });

  it('writes one JSON access line per request with route, status, duration, request id and error code', async () => {
    const { server, lines } = setup({ 'things.listThings': () => [] });
    await server.inject({ method: 'GET', url: '/api/things?limit=1', headers: { 'x-request-id': 'ok-1' } });
    await server.inject({ method: 'GET', url: '/missing', headers: { 'x-request-id': 'nf-1' } });
    const access = lines.filter((l) => l['msg'] === 'request');
    assert.equal(access.length, 2);
    const [ok, notFound] = access;
    assert.equal(ok!['method'], 'GET');
    assert.equal(ok!['route'], '/api/things');
    assert.equal(ok!['status'], 200);
    assert.equal(ok!['requestId'], 'ok-1');
    assert.equal(typeof ok!['durationMs'], 'number');
    assert.equal(ok!['error'], undefined);
    assert.equal(notFound!['status'], 404);
    assert.equal(notFound!['route'], null);
    assert.equal(notFound!['path'], '/missing');
    assert.equal(notFound!['error'], 'ROUTE_NOT_FOUND');
  });
});

describe('gateway configuration', () => {
  it('refuses to start when a route needs auth and the app has no gateway.auth', () => {
    const noAuth = app({ name: 'bare', services: [things, users] });
    assert.throws(
      () => createGateway({ app: noAuth, transport: new FakeTransport() }),
      (err: unknown) =>
        err instanceof CaroteneError &&
        err.code === 'INVALID_CONFIG' &&
        err.message.includes("route 'GET /api/things/:id' (things.getThing) needs auth 'required'") &&
        err.message.includes('gateway: { auth:'),
    );
  });
});
