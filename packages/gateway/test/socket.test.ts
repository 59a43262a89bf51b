// The gateway over a real TCP socket, with Node's fetch as the client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createGateway, type Gateway } from '../src/index.ts';
import { captureLogger, FakeTransport, testApp } from './fixtures.ts';

describe('gateway over a socket', () => {
  let releaseSlow: () => void = () => {};
  const transport = new FakeTransport({
    'things.listThings': (input) => [{ id: 'a', input }],
    'things.createThing': () => {
      throw new Error('boom');
    },
    'things.deleteThing': () =>
      new Promise<undefined>((resolve) => {
        releaseSlow = () => resolve(undefined);
      }),
  });
  const { logger } = captureLogger();
  let gateway: Gateway;
  let url: string;

  before(async () => {
    gateway = createGateway({ app: testApp(), transport, logger });
    url = await gateway.listen('127.0.0.1', 0);
  });
  after(() => gateway.close());

  it('listens and reports its URL', () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(url, 'http://127.0.0.1:0');
  });

  it('forwards a route and returns the request id', async () => {
    const res = await fetch(`${url}/api/things?limit=2`, { headers: { 'x-request-id': 'sock-1' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'sock-1');
    assert.deepEqual(await res.json(), [{ id: 'a', input: { limit: '2' } }]);
  });

  it('is ready once listening', async () => {
    const res = await fetch(`${url}/ready`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  it('answers 404, 400, 413 and 500 as JSON and keeps serving', async () => {
    const notFound = await fetch(`${url}/nope`);
    assert.equal(notFound.status, 404);
    assert.equal(((await notFound.json()) as { error: { code: string } }).error.code, 'ROUTE_NOT_FOUND');
    assert.ok(notFound.headers.get('x-request-id'));

    const malformed = await fetch(`${url}/api/things/p1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as { error: { code: string } }).error.code, 'MALFORMED_REQUEST');

    const huge = await fetch(`${url}/api/things/p1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }),
    });
    assert.equal(huge.status, 413);
    assert.equal(((await huge.json()) as { error: { code: string } }).error.code, 'PAYLOAD_TOO_LARGE');

    const failing = await fetch(`${url}/api/things/p1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' });
    assert.equal(failing.status, 500);
    const text = await failing.text();
    assert.doesNotMatch(text, /boom|\bat\b.*\.ts/);

    const still = await fetch(`${url}/api/things`);
    assert.equal(still.status, 200);
  });

  it('finishes an in-flight request when closed, then stops accepting', async () => {
    const inFlight = fetch(`${url}/api/things/slow`, { method: 'DELETE' });
    while (transport.routed().every((c) => c.fn !== 'deleteThing')) await new Promise((r) => setTimeout(r, 5));
    const closing = gateway.close();
    await new Promise((r) => setTimeout(r, 50));
    releaseSlow();
    const res = await inFlight;
    assert.equal(res.status, 204);
    await closing;
    await assert.rejects(fetch(`${url}/health`), 'no longer listening');
  });
});
