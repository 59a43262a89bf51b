import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { carrot, fixtureApp } from '../build/run-carrot.ts';

// `carrot status` decides with the dashboard's module: readiness, then error rates from
// /metrics over --window. The fixture app has catalog, orders and payments.
describe('carrot status with metrics', () => {
  const servers: Server[] = [];
  after(() => servers.forEach((s) => s.close()));

  /** An instance whose counters grow by `per` requests (`errors` of them 5xx) at every scrape. */
  async function instance(per: number, errors: number): Promise<string> {
    let scrapes = 0;
    const server = createServer((req, res) => {
      if (req.url === '/ready') return res.writeHead(200).end('{}');
      if (req.url === '/metrics') {
        scrapes += 1;
        return res.writeHead(200).end(`svc_requests_total{code="200"} ${scrapes * (per - errors)}\nsvc_requests_total{code="503"} ${scrapes * errors}\n`);
      }
      res.writeHead(404).end();
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  it('adds each service’s error rate over the window, and a failing service turns the app unhealthy or degraded', async () => {
    const [catalog, orders, payments, gateway] = await Promise.all([instance(20, 0), instance(20, 4), instance(20, 12), instance(10, 0)]);
    const dataDir = mkdtempSync(join(tmpdir(), 'carotene-status-'));
    writeFileSync(
      join(dataDir, 'registry.json'),
      JSON.stringify({ app: 'shop', gateway: { url: gateway }, services: { catalog: { url: catalog }, orders: { url: orders }, payments: { url: payments } } }),
    );
    const result = await carrot(['status', fixtureApp('valid').file, '--data-dir', dataDir, '--window', '200']);
    assert.equal(result.code, 1, result.out.join('\n'));
    assert.equal(result.out[0], 'shop (development, local processes): degraded');
    const line = (name: string) => result.out.find((l) => l.trimStart().startsWith(name))!;
    assert.match(line('catalog'), /catalog\s+healthy\s+1\/1 ready {2}\d+\.\d req\/s, 0\.0% errors$/);
    assert.match(line('orders'), /orders\s+degraded\s+1\/1 ready {2}\d+\.\d req\/s, 20% errors$/);
    assert.match(line('payments'), /payments\s+unhealthy\s+1\/1 ready {2}\d+\.\d req\/s, 60% errors$/);
    assert.match(line('gateway'), /gateway\s+healthy/);
  });

  it('refuses a window that is not a number of milliseconds', async () => {
    const result = await carrot(['status', fixtureApp('valid').file, '--window', '1s']);
    assert.equal(result.code, 2);
    assert.match(result.err[0]!, /--window must be a number of milliseconds/);
  });
});
