import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import shop from '../../../../examples/shop/app.ts';
import { DashboardServer } from '../../src/dashboard/dashboard-server.ts';
import { EventFeed } from '../../src/dashboard/event-feed.ts';
import { HealthCollector } from '../../src/dashboard/health-collector.ts';
import { openStore, type StoreDriver } from '../../../runtime/src/store/driver.ts';
import { checkoutExports } from './otlp-fixture.ts';

describe('DashboardServer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carotene-dash-'));
  const stores: StoreDriver[] = [];
  const seen: Array<{ method?: string; url?: string; headers: IncomingHttpHeaders; body: string }> = [];
  // a stand-in gateway that echoes what it received
  const gateway = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      res
        .writeHead(201, { 'content-type': 'application/json', 'x-request-id': 'req-1' })
        .end(JSON.stringify({ token: 'tok-123', got: body ? JSON.parse(body) : null }));
    });
  });
  let dashboard: DashboardServer;
  let url = '';

  before(async () => {
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    dashboard = new DashboardServer({
      app: shop,
      port: 0,
      gatewayUrl: `http://127.0.0.1:${(gateway.address() as { port: number }).port}`,
      health: new HealthCollector({ services: ['orders'], registryFile: join(dir, 'registry.json'), tls: { ca: '', cert: '', key: '' } }),
      events: new EventFeed(shop, async (service) => {
        const store = await openStore({ file: join(dir, `${service}.sqlite`) });
        stores.push(store);
        return store;
      }),
    });
    url = await dashboard.start();
  });
  after(async () => {
    await dashboard.close();
    gateway.close();
    for (const s of stores) await s.close();
  });

  const post = (path: string, body: string | Buffer, headers: Record<string, string>) => fetch(`${url}${path}`, { method: 'POST', headers, body });

  it('receives OTLP/HTTP JSON at /v1/traces and serves the trace list and one trace', async () => {
    const { traceId, exports } = checkoutExports();
    for (const e of exports) {
      const res = await post('/v1/traces', JSON.stringify(e.body), { 'content-type': 'application/json' });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {});
    }
    const list = (await (await fetch(`${url}/api/traces`)).json()) as { traces: Array<{ traceId: string; spans: number; services: string[] }> };
    assert.equal(list.traces[0]!.traceId, traceId);
    assert.equal(list.traces[0]!.spans, 8);
    const one = (await (await fetch(`${url}/api/traces/${traceId}`)).json()) as { summary: { root: string }; spans: unknown[] };
    assert.equal(one.summary.root, 'POST /api/orders/:id/checkout');
    assert.equal(one.spans.length, 8);
    const missing = await fetch(`${url}/api/traces/${'f'.repeat(32)}`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'ROUTE_NOT_FOUND');
  });

  it('accepts a gzipped export, and refuses protobuf, other types, bad JSON and bodies too large', async () => {
    const { traceId, exports } = checkoutExports();
    const zipped = await post('/v1/traces', gzipSync(JSON.stringify(exports[0]!.body)), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    assert.equal(zipped.status, 200);
    assert.ok(dashboard.traces.get(traceId));

    const proto = await post('/v1/traces', Buffer.from([0x0a, 0x00]), { 'content-type': 'application/x-protobuf' });
    assert.equal(proto.status, 415);
    const error = ((await proto.json()) as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'UNSUPPORTED_MEDIA_TYPE');
    assert.match(error.message, /OTLP\/HTTP JSON, not protobuf.*http\/json/);
    assert.equal((await post('/v1/traces', 'x', { 'content-type': 'text/plain' })).status, 415);
    const bad = await post('/v1/traces', '{"resourceSpans": [', { 'content-type': 'application/json' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'MALFORMED_REQUEST');
    assert.equal((await post('/v1/traces', '{"spans":[]}', { 'content-type': 'application/json' })).status, 400);
    const big = await post('/v1/traces', Buffer.alloc(9 * 1024 * 1024, 32), { 'content-type': 'application/json' });
    assert.equal(big.status, 413);
  });

  it('tells the browsers over Server-Sent Events when a trace arrives', async () => {
    const frames = await new Promise<string>((resolve, reject) => {
      const req = request(`${url}/api/stream`, (res) => {
        assert.equal(res.headers['content-type'], 'text/event-stream');
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
          if (text.includes('event: traces')) {
            req.destroy();
            resolve(text);
          }
        });
        // connected: now an export arrives
        void post('/v1/traces', JSON.stringify(checkoutExports().exports[0]!.body), { 'content-type': 'application/json' });
      });
      req.on('error', (err) => (err.message.includes('aborted') ? undefined : reject(err)));
      req.end();
      setTimeout(() => reject(new Error('no traces event within 5 s')), 5_000).unref();
    });
    assert.match(frames, /^retry: 1000/m);
    assert.match(frames, /event: traces\ndata: \{\}/);
  });

  it('sends the API explorer’s request to the gateway, with the bearer token and body', async () => {
    const res = await post('/api/call', JSON.stringify({ method: 'post', path: '/api/orders?x=1', token: 'abc', body: { items: [] } }), {
      'content-type': 'application/json',
    });
    assert.equal(res.status, 200);
    const answer = (await res.json()) as { status: number; headers: Record<string, string>; body: { got: unknown } };
    assert.equal(answer.status, 201);
    assert.equal(answer.headers['x-request-id'], 'req-1');
    assert.deepEqual(answer.body.got, { items: [] });
    const last = seen.at(-1)!;
    assert.equal(last.method, 'POST');
    assert.equal(last.url, '/api/orders?x=1');
    assert.equal(last.headers.authorization, 'Bearer abc');
  });

  it('refuses API requests from other origins or without JSON, and paths off the gateway', async () => {
    const call = JSON.stringify({ method: 'GET', path: '/api/products' });
    const before = seen.length;
    assert.equal((await post('/api/call', call, { 'content-type': 'application/json', origin: 'http://evil.example' })).status, 403);
    assert.equal((await post('/api/call', call, { 'content-type': 'text/plain' })).status, 403);
    assert.equal((await post('/api/dead-letters/notifications/x/replay', '{}', { 'content-type': 'text/plain' })).status, 403);
    assert.equal((await post('/api/call', call, { 'content-type': 'application/json', origin: url })).status, 200);
    for (const path of ['//evil.example/x', 'http://evil.example/', 'api']) {
      const res = await post('/api/call', JSON.stringify({ method: 'GET', path }), { 'content-type': 'application/json' });
      assert.equal(res.status, 400, path);
    }
    assert.equal((await post('/api/call', JSON.stringify({ method: 'TRACE', path: '/' }), { 'content-type': 'application/json' })).status, 400);
    assert.equal(seen.length, before + 1, 'only the one allowed request reached the gateway');
  });

  it('serves the page, its modules, the OpenAPI document and health; nothing outside static/', async () => {
    const page = await fetch(`${url}/`);
    assert.match(page.headers.get('content-type')!, /text\/html/);
    assert.match(await page.text(), /<script type="module" src="\/static\/app.js">/);
    assert.match((await fetch(`${url}/static/app.js`)).headers.get('content-type')!, /text\/javascript/);
    assert.equal((await fetch(`${url}/static/..%2Fdashboard-server.ts`)).status, 404);
    assert.equal((await fetch(`${url}/static/nothing.js`)).status, 404);
    const doc = (await (await fetch(`${url}/api/openapi`)).json()) as { paths: Record<string, unknown> };
    assert.ok(doc.paths['/api/orders/{id}/checkout']);
    const health = (await (await fetch(`${url}/api/health`)).json()) as { health: string; workloads: Array<{ name: string }> };
    assert.equal(health.health, 'unhealthy');
    assert.deepEqual(
      health.workloads.map((w) => w.name),
      ['orders', 'gateway'],
    );
    assert.equal((await post('/api/dead-letters/notifications/nope/replay', '{}', { 'content-type': 'application/json' })).status, 404);
    // started without sagas: the page offers no Sagas view and the API has none
    assert.equal(((await (await fetch(`${url}/api/app`)).json()) as { sagas: boolean }).sagas, false);
    assert.equal((await fetch(`${url}/api/sagas`)).status, 404);
  });
});
