// A client that leaves while its body is being read is the client's doing: one info line
// with its request id, never an "unexpected error" that would hide real ones.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createGateway, type Gateway } from '../src/index.ts';
import { captureLogger, FakeTransport, testApp } from './fixtures.ts';
import { rawConnection } from './raw-http.ts';

describe('a client gone mid-body', () => {
  const { logger, lines } = captureLogger();
  const transport = new FakeTransport({ 'things.createThing': () => ({ id: 'a' }) });
  let gateway: Gateway;
  let url: string;
  before(async () => {
    gateway = createGateway({ app: testApp(), transport, logger });
    url = await gateway.listen('127.0.0.1', 0);
  });
  after(() => gateway.close());

  const head = (id: string, framing: string) =>
    `POST /api/things/a HTTP/1.1\r\nhost: gw.test\r\nx-request-id: ${id}\r\ncontent-type: application/json\r\n${framing}\r\n`;

  async function lineFor(requestId: string): Promise<Record<string, unknown>> {
    for (let i = 0; i < 200; i++) {
      const line = lines.find((l) => l['requestId'] === requestId);
      if (line) return line;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail(`no log line for ${requestId}; lines: ${JSON.stringify(lines)}`);
  }

  for (const [what, id, framing, partial, leave] of [
    ['a Content-Length body, connection reset', 'gone-length', 'content-length: 100\r\n', '{"na', 'destroy'],
    ['a chunked body, connection ended', 'gone-chunked', 'transfer-encoding: chunked\r\n', '4\r\n{"na', 'end'],
    ['a chunked body that turns malformed', 'gone-malformed', 'transfer-encoding: chunked\r\n', '4\r\n{"na\r\nzz\r\n', 'stay'],
  ] as const) {
    it(`${what}: logged at info with its request id`, async () => {
      const c = await rawConnection(url);
      c.socket.write(head(id, framing) + partial);
      await new Promise((r) => setTimeout(r, 50));
      if (leave === 'destroy') c.socket.destroy();
      else if (leave === 'end') c.socket.end();
      const line = await lineFor(id);
      assert.equal(line['level'], 30, JSON.stringify(line));
      assert.equal(line['msg'], 'client gone before its request body arrived');
      assert.equal(line['code'], 'CLIENT_DISCONNECTED');
      assert.equal(line['path'], '/api/things/a');
      c.socket.destroy();
    });
  }

  it('logs nothing at warn or error for any of them, and never calls the service', () => {
    assert.deepEqual(
      lines.filter((l) => (l['level'] as number) >= 40),
      [],
    );
    assert.equal(transport.routed().length, 0);
  });
});
