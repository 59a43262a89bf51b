// One answer per request, on the wire: a request the gateway answered early (404, 415) whose
// chunked body then turns out malformed gets no second status line, only the close.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createGateway, type Gateway } from '../src/index.ts';
import { captureLogger, FakeTransport, testApp } from './fixtures.ts';
import { rawConnection, statusLines } from './raw-http.ts';

/** Chunked bodies that stop being valid HTTP/1.1 part-way (RFC 9112 §7.1). */
const MALFORMED_BODIES: Readonly<Record<string, string>> = {
  'chunk size not hex': 'zz\r\n',
  'chunk longer than its size': '2\r\nhello\r\n0\r\n\r\n',
  'no CRLF after the chunk data': '5\r\nhelloXX',
  'control character in a chunk extension': '5;\x01\r\nhello\r\n0\r\n\r\n',
  'chunk size overflowing': 'ffffffffffffffffffff\r\n',
  'bare LF line endings': '5\nhello\n0\n\n',
  'malformed trailer': '5\r\nhello\r\n0\r\nbad trailer\r\n\r\n',
};

/** Requests the gateway answers from their head alone, before reading the body. */
const EARLY_ANSWERS: ReadonlyArray<readonly [string, number, string]> = [
  ['an unknown route', 404, 'GET /nope HTTP/1.1\r\nhost: gw.test\r\ntransfer-encoding: chunked\r\n\r\n'],
  ['a body that is not JSON', 415, 'POST /api/things/a HTTP/1.1\r\nhost: gw.test\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n'],
];

describe('one answer per request', () => {
  let gateway: Gateway;
  let url: string;
  before(async () => {
    gateway = createGateway({ app: testApp(), transport: new FakeTransport({ 'things.createThing': () => ({ id: 'a' }) }), logger: captureLogger().logger });
    url = await gateway.listen('127.0.0.1', 0);
  });
  after(() => gateway.close());

  for (const [what, status, head] of EARLY_ANSWERS) {
    for (const [variant, body] of Object.entries(MALFORMED_BODIES)) {
      it(`${status} for ${what}, then ${variant}: one status line, then the close`, async () => {
        const c = await rawConnection(url);
        c.socket.write(head);
        // the answer is complete and the connection kept alive before the body arrives
        const first = await c.waitFor(/\r\n\r\n\{"error":.*\}$/s);
        assert.deepEqual(
          statusLines(first).map((l) => l.slice(9, 12)),
          [String(status)],
        );
        assert.doesNotMatch(first, /connection: close/i);
        c.socket.write(body);
        const wire = await c.closed();
        assert.deepEqual(
          statusLines(wire).map((l) => l.slice(9, 12)),
          [String(status)],
          `the wire was ${JSON.stringify(wire)}`,
        );
        assert.equal(wire, first, 'nothing after the first answer');
      });
    }
  }

  it('a body that stops arriving after an early answer gets no 408 on top of it', async () => {
    const slow = createGateway({
      app: testApp({ limits: { headersTimeoutMs: 200, requestTimeoutMs: 400 } }),
      transport: new FakeTransport(),
      logger: captureLogger().logger,
    });
    const slowUrl = await slow.listen('127.0.0.1', 0);
    try {
      const c = await rawConnection(slowUrl);
      c.socket.write(`${EARLY_ANSWERS[1]![2]}5\r\nhel`);
      const wire = await c.closed(5_000);
      assert.deepEqual(
        statusLines(wire).map((l) => l.slice(9, 12)),
        ['415'],
        `the wire was ${JSON.stringify(wire)}`,
      );
    } finally {
      await slow.close();
    }
  });

  it('still answers a malformed body 400 when nothing answered the request yet', async () => {
    const c = await rawConnection(url);
    c.socket.write('POST /api/things/a HTTP/1.1\r\nhost: gw.test\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n');
    const wire = await c.closed();
    assert.deepEqual(
      statusLines(wire).map((l) => l.slice(9, 12)),
      ['400'],
    );
    assert.match(wire, /"code":"MALFORMED_REQUEST"/);
  });

  it('answers a malformed request after a finished one on the same connection', async () => {
    const c = await rawConnection(url);
    c.socket.write('GET /nope HTTP/1.1\r\nhost: gw.test\r\n\r\n');
    await c.waitFor(/\r\n\r\n\{"error":.*\}$/s);
    c.socket.write('NOT HTTP\r\n\r\n');
    const wire = await c.closed();
    assert.deepEqual(
      statusLines(wire).map((l) => l.slice(9, 12)),
      ['404', '400'],
    );
  });
});
