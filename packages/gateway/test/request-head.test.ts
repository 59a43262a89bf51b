// Host and framing checked as RFC 9112 says (§3.2, §6.1), over raw sockets: what a proxy or
// an attacker may send that fetch never would.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createGateway, type Gateway } from '../src/index.ts';
import { captureLogger, FakeTransport, testApp } from './fixtures.ts';
import { exchange, rawConnection, statusLines } from './raw-http.ts';

const answers = { 'things.listThings': () => [], 'things.createThing': (input: unknown) => ({ id: (input as { id: string }).id }) };

/** A GET of /api/things with these header lines, and nothing else. */
const get = (lines: string, version = '1.1') => `GET /api/things HTTP/${version}\r\n${lines}\r\n`;

describe('request head checks', () => {
  let gateway: Gateway;
  let url: string;
  before(async () => {
    gateway = createGateway({ app: testApp(), transport: new FakeTransport(answers as never), logger: captureLogger().logger });
    url = await gateway.listen('127.0.0.1', 0);
  });
  after(() => gateway.close());

  /** Sends `request` and expects one JSON 400 naming `message`, then the close. */
  async function refused(request: string, message: RegExp): Promise<void> {
    const wire = await exchange(url, request);
    assert.deepEqual(statusLines(wire), ['HTTP/1.1 400 Bad Request'], `the wire was ${JSON.stringify(wire)}`);
    assert.match(wire, /\r\nconnection: close\r\n/i);
    const body = JSON.parse(wire.slice(wire.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string; requestId: string } };
    assert.equal(body.error.code, 'MALFORMED_REQUEST');
    assert.match(body.error.message, message);
    assert.ok(body.error.requestId);
  }

  /** Sends `request` and expects its 200 on a connection kept open. */
  async function served(request: string): Promise<void> {
    const c = await rawConnection(url);
    c.socket.write(request);
    const wire = await c.waitFor(/\r\n\r\n\[\]$/);
    assert.deepEqual(statusLines(wire), [`HTTP/1.1 200 OK`]);
    c.socket.destroy();
  }

  it('refuses an HTTP/1.1 request without Host', () => refused(get(''), /has no Host header/));

  it('refuses two Host header lines, equal or not', async () => {
    await refused(get('host: gw.test\r\nhost: gw.test\r\n'), /2 Host headers; send exactly one/);
    await refused(get('Host: gw.test\r\nHOST: other.test\r\n'), /2 Host headers/);
  });

  for (const [what, host] of [
    ['userinfo', 'user:pass@gw.test'],
    ['a path', 'gw.test/admin'],
    ['a comma-separated list', 'gw.test, other.test'],
    ['a list without spaces', 'gw.test,other.test'],
    ['a space', 'gw test'],
    ['a port that is not a number', 'gw.test:http'],
    ['a port out of range', 'gw.test:65536'],
    ['a bracketed literal that is not IPv6', '[gw.test]'],
    ['a port and no host', ':8080'],
    ['a query', 'gw.test?x=1'],
  ]) {
    it(`refuses a Host with ${what}`, () => refused(get(`host: ${host}\r\n`), /is not a valid host\[:port\]/));
  }

  it('refuses an empty Host for an origin-form target', () => refused(get('host:\r\n'), /Host header is empty/));

  it('accepts an empty Host where the target is an absolute URI, whose authority the server uses', async () => {
    const wire = await exchange(url, 'GET http://gw.test/api/things HTTP/1.1\r\nhost:\r\nconnection: close\r\n\r\n');
    assert.doesNotMatch(wire, /Host header/, wire);
    assert.doesNotMatch(statusLines(wire)[0] ?? '', / 400 /);
  });

  it('serves valid hosts: names, ports, IPv4 and IPv6 literals, HTTP/1.0 without Host', async () => {
    for (const host of ['gw.test', 'gw.test:8080', '127.0.0.1:80', '[::1]:8080', '[2001:db8::7]', 'xn--bcher-kva.example', 'gw.test:', 'gw%2Dtest']) {
      await served(get(`host: ${host}\r\n`));
    }
    const wire = await exchange(url, get('connection: close\r\n', '1.0'));
    assert.deepEqual(statusLines(wire), ['HTTP/1.1 200 OK']);
  });

  it('refuses an empty Transfer-Encoding beside a Content-Length, and alone', async () => {
    const body = '{"name":"n"}';
    const post = (lines: string) => `POST /api/things/a HTTP/1.1\r\nhost: gw.test\r\ncontent-type: application/json\r\n${lines}\r\n${body}`;
    await refused(post(`transfer-encoding: \r\ncontent-length: ${body.length}\r\n`), /Transfer-Encoding header is empty/);
    // node's parser refuses this order itself: a 400 all the same
    await refused(post(`content-length: ${body.length}\r\ntransfer-encoding:\r\n`), /Transfer-Encoding header is empty|not valid HTTP/);
    await refused(post('transfer-encoding:    \r\n'), /Transfer-Encoding header is empty/);
  });

  it('still serves a chunked body and one with a Content-Length', async () => {
    const chunked = await exchange(
      url,
      'POST /api/things/a HTTP/1.1\r\nhost: gw.test\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\nc\r\n{"name":"n"}\r\n0\r\n\r\n',
    );
    assert.deepEqual(statusLines(chunked), ['HTTP/1.1 201 Created']);
    const sized = await exchange(
      url,
      'POST /api/things/a HTTP/1.1\r\nhost: gw.test\r\ncontent-type: application/json\r\ncontent-length: 12\r\nconnection: close\r\n\r\n{"name":"n"}',
    );
    assert.deepEqual(statusLines(sized), ['HTTP/1.1 201 Created']);
  });
});
