// The gateway `carrot dev` starts together with the services waits for them before listening.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { servicesReady } from '../../../gateway/src/services-ready.ts';
import { createLogger } from '../../../runtime/src/service/logger.ts';
import type { Registry } from '../../../runtime/src/transport/transport.ts';
import { testPki, type TestPki } from '../../../runtime/test/fixtures/certs.ts';

let pki: TestPki;
const servers: Server[] = [];
before(async () => {
  pki = await testPki('shop', ['users', 'gateway']);
});
after(() => {
  for (const s of servers) s.close();
});

/** A service's mutual-TLS listener whose `/ready` answers `status()`. */
async function service(status: () => number): Promise<string> {
  const { ca, cert, key } = pki.credentials('users').current();
  const server = createServer({ ca, cert, key, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (req, res) => {
    res.writeHead(req.url === '/ready' ? status() : 404).end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function capturingLog(): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  return { log: createLogger('gateway', 'info', sink), lines };
}

const registryOf = (services: Record<string, string[]>): Registry => ({
  app: 'shop',
  gateway: { url: 'http://127.0.0.1:1' },
  services: Object.fromEntries(Object.entries(services).map(([name, urls]) => [name, { url: urls[0]!, instances: urls.map((url) => ({ url })) }])),
});

test('resolves only once every instance answers ready', async () => {
  let readyAfter = Date.now() + 300;
  const first = await service(() => 200);
  const second = await service(() => (Date.now() >= readyAfter ? 200 : 503));
  const { log } = capturingLog();
  const started = Date.now();
  const late = await servicesReady(registryOf({ users: [first, second] }), pki.credentials('gateway'), { withinMs: 10_000, log });
  assert.deepEqual(late, []);
  assert.ok(Date.now() >= readyAfter, 'not before the second instance was ready');
  assert.ok(Date.now() - started < 5_000);
  readyAfter = 0;
});

test('gives up after the wait, naming the services still not ready, with a warning', async () => {
  const never = await service(() => 503);
  const { log, lines } = capturingLog();
  // nothing listens on port 1: refused, like a service that crashed
  const late = await servicesReady(registryOf({ users: [never], catalog: ['https://127.0.0.1:1'] }), pki.credentials('gateway'), { withinMs: 200, log });
  assert.deepEqual(late.sort(), ['catalog', 'users']);
  assert.match(lines.join(''), /not ready yet/);
});
