import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HealthCollector } from '../../src/dashboard/health-collector.ts';
import { parsePrometheus, requestTotals } from '../../src/dashboard/request-metrics.ts';
import { assessApp, assessWorkload } from '../../src/dashboard/service-health.ts';

const ready = { name: 'orders', desired: 2, ready: 2 };
const traffic = (requests: number, errors: number) => ({ requests, errors, windowMs: 10_000 });

describe('assessWorkload', () => {
  it('with readiness alone is the readiness verdict', () => {
    assert.equal(assessWorkload(ready).health, 'healthy');
    assert.deepEqual(assessWorkload({ ...ready, ready: 1, detail: 'ECONNREFUSED' }).reasons, ['1/2 ready (ECONNREFUSED)']);
    assert.equal(assessWorkload({ ...ready, ready: 1 }).health, 'degraded');
    assert.equal(assessWorkload({ ...ready, ready: 0 }).health, 'unhealthy');
    assert.equal(assessWorkload(ready).errorRate, undefined);
  });

  it('turns a ready workload degraded from 5 % errors and unhealthy from 50 %', () => {
    assert.equal(assessWorkload({ ...ready, traffic: traffic(100, 4) }).health, 'healthy');
    const five = assessWorkload({ ...ready, traffic: traffic(100, 5) });
    assert.equal(five.health, 'degraded');
    assert.deepEqual(five.reasons, ['5.0% errors over 10 s (5 of 100)']);
    assert.equal(five.requestsPerSecond, 10);
    assert.equal(assessWorkload({ ...ready, traffic: traffic(100, 50) }).health, 'unhealthy');
  });

  it('ignores error rates of too few requests, and never makes readiness better', () => {
    assert.equal(assessWorkload({ ...ready, traffic: traffic(4, 4) }).health, 'healthy');
    assert.equal(assessWorkload({ ...ready, traffic: traffic(4, 4) }).errorRate, 1);
    assert.equal(assessWorkload({ ...ready, ready: 0, traffic: traffic(100, 0) }).health, 'unhealthy');
    assert.equal(assessWorkload({ ...ready, ready: 1, traffic: traffic(100, 60) }).health, 'unhealthy');
  });

  it('aggregates the app: healthy when all are, unhealthy when all are, degraded between', () => {
    assert.equal(assessApp([ready, { ...ready, name: 'gateway' }]).health, 'healthy');
    assert.equal(assessApp([ready, { ...ready, name: 'gateway', traffic: traffic(20, 2) }]).health, 'degraded');
    assert.equal(
      assessApp([
        { ...ready, ready: 0 },
        { ...ready, name: 'b', traffic: traffic(10, 10) },
      ]).health,
      'unhealthy',
    );
  });
});

describe('request metrics', () => {
  const page = [
    '# HELP carotene_requests_total Requests served',
    '# TYPE carotene_requests_total counter',
    'carotene_requests_total{function="checkout",status="200"} 90',
    'carotene_requests_total{function="checkout",status="402"} 6',
    'carotene_requests_total{function="checkout",status="503"} 4',
    'carotene_integration_requests_total{integration="catalog",status="500"} 70',
    'carotene_request_duration_seconds_count{function="checkout"} 100',
    'process_cpu_seconds_total 1.5',
  ].join('\n');

  it('parses the Prometheus text format', () => {
    const samples = parsePrometheus(`${page}\nweird line\nx{a="q\\"uote"} +Inf\n`);
    assert.deepEqual(samples[0], { name: 'carotene_requests_total', labels: { function: 'checkout', status: '200' }, value: 90, type: 'counter' });
    assert.deepEqual(samples.at(-1), { name: 'x', labels: { a: 'q"uote' }, value: Infinity, type: 'untyped' });
  });

  it('counts requests served and their 5xx, not the calls made to others, nor 4xx answers', () => {
    assert.deepEqual(requestTotals(parsePrometheus(page)), { requests: 100, errors: 4 });
    assert.deepEqual(requestTotals(parsePrometheus('rpc_server_requests_total{outcome="error"} 3\nrpc_server_requests_total{outcome="ok"} 7\n')), {
      requests: 10,
      errors: 3,
    });
    assert.equal(requestTotals(parsePrometheus('process_cpu_seconds_total 1\n')), undefined);
  });

  it('takes no gauge for a request counter, as the gateway’s page before its first request has', () => {
    const idle = '# TYPE carotene_gateway_requests_total counter\n# TYPE nodejs_active_requests_total gauge\nnodejs_active_requests_total 3\n';
    assert.equal(requestTotals(parsePrometheus(idle)), undefined);
    const busy = `${idle}carotene_gateway_requests_total{method="GET",route="/api/products",status="200"} 4\n`;
    assert.deepEqual(requestTotals(parsePrometheus(busy)), { requests: 4, errors: 0 });
  });

  it('counts one service of a process that runs several (the metrics are labelled by service)', () => {
    const shared = parsePrometheus(
      [
        'carotene_handler_requests_total{service="orders",handler="checkout",status="200",code="OK"} 8',
        'carotene_handler_requests_total{service="orders",handler="checkout",status="500",code="INTERNAL"} 2',
        'carotene_handler_requests_total{service="catalog",handler="getProducts",status="200",code="OK"} 30',
        'carotene_integration_calls_total{service="orders",target="catalog",function="getProducts",status="503",code="UNAVAILABLE"} 5',
      ].join('\n'),
    );
    assert.deepEqual(requestTotals(shared, 'orders'), { requests: 10, errors: 2 });
    assert.deepEqual(requestTotals(shared, 'catalog'), { requests: 30, errors: 0 });
    assert.deepEqual(requestTotals(shared), { requests: 40, errors: 2 });
  });
});

describe('HealthCollector', () => {
  const servers: Server[] = [];
  after(() => servers.forEach((s) => s.close()));

  /** An instance answering /ready and /metrics with whatever the test sets. */
  async function instance(state: { ready: number; requests: number; errors: number; metrics: boolean }): Promise<string> {
    const server = createServer((req, res) => {
      if (req.url === '/ready') return res.writeHead(state.ready).end('{}');
      if (req.url === '/metrics' && state.metrics) {
        // as prom-client writes it: a counter without requests yet has its TYPE line only
        const samples =
          state.requests === 0 ? '' : `app_requests_total{status="200"} ${state.requests - state.errors}\napp_requests_total{status="500"} ${state.errors}\n`;
        return res.writeHead(200, { 'content-type': 'text/plain' }).end(`# TYPE app_requests_total counter\n${samples}`);
      }
      res.writeHead(404).end();
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  it('looks at every instance through the registry and computes error rates over its window', async () => {
    const a = { ready: 200, requests: 100, errors: 0, metrics: true };
    const b = { ready: 200, requests: 50, errors: 0, metrics: true };
    const gw = { ready: 200, requests: 0, errors: 0, metrics: false };
    const [urlA, urlB, urlGw] = await Promise.all([instance(a), instance(b), instance(gw)]);
    const dir = mkdtempSync(join(tmpdir(), 'carotene-health-'));
    const registryFile = join(dir, 'registry.json');
    // several instances of one service (the registry lists them), one of another service down
    writeFileSync(
      registryFile,
      JSON.stringify({
        app: 'shop',
        gateway: { url: urlGw },
        services: { orders: { url: urlA, instances: [{ url: urlA }, { url: urlB }] }, catalog: { url: 'http://127.0.0.1:1' } },
      }),
    );
    const collector = new HealthCollector({ services: ['orders', 'catalog', 'payments'], registryFile, tls: { ca: '', cert: '', key: '' } });

    const first = await collector.sample();
    assert.deepEqual(
      first.map((w) => [w.name, w.ready, w.desired]),
      [
        ['orders', 2, 2],
        ['catalog', 0, 1],
        ['payments', 0, 1],
        ['gateway', 1, 1],
      ],
    );
    assert.equal(first[0]!.traffic, undefined, 'one look gives no window yet');
    assert.equal(first[1]!.detail, 'ECONNREFUSED');
    assert.equal(first[2]!.detail, 'not in the registry');
    assert.deepEqual(
      first[0]!.instances.map((i) => i.metrics),
      [true, true],
    );
    assert.equal(first[3]!.instances[0]!.metrics, false);

    a.requests += 30;
    a.errors += 10;
    b.requests = 10; // b restarted: its counters began again
    b.ready = 503;
    await new Promise((r) => setTimeout(r, 20));
    const second = await collector.sample();
    const orders = second[0]!;
    assert.equal(orders.traffic!.requests, 40);
    assert.equal(orders.traffic!.errors, 10);
    assert.ok(orders.traffic!.windowMs >= 20);
    assert.equal(orders.ready, 1);
    assert.equal(orders.detail, 'HTTP 503');
    const report = assessApp(second);
    assert.equal(report.workloads[0]!.health, 'degraded');
    assert.match(report.workloads[0]!.reasons.join('; '), /1\/2 ready \(HTTP 503\); 25% errors over 0 s \(10 of 40\)/);
    assert.equal(report.workloads[3]!.health, 'healthy');
    assert.equal(report.health, 'degraded');
  });

  it('reports every workload unhealthy when there is no registry', async () => {
    const collector = new HealthCollector({
      services: ['orders'],
      registryFile: join(tmpdir(), 'nowhere', 'registry.json'),
      tls: { ca: '', cert: '', key: '' },
    });
    const samples = await collector.sample();
    assert.deepEqual(
      samples.map((s) => [s.name, s.ready]),
      [
        ['orders', 0],
        ['gateway', 0],
      ],
    );
    assert.match(samples[0]!.detail!, /no registry at/);
    assert.equal(assessApp(samples).health, 'unhealthy');
  });

  it('counts the first requests of a counter that had none at the previous look', async () => {
    const fresh = { ready: 200, requests: 0, errors: 0, metrics: true };
    const url = await instance(fresh);
    const dir = mkdtempSync(join(tmpdir(), 'carotene-health-'));
    const registryFile = join(dir, 'registry.json');
    writeFileSync(registryFile, JSON.stringify({ app: 'shop', gateway: { url }, services: {} }));
    const collector = new HealthCollector({ services: [], registryFile, tls: { ca: '', cert: '', key: '' } });
    assert.equal((await collector.sample())[0]!.instances[0]!.metrics, true);
    fresh.requests = 8;
    fresh.errors = 8;
    const [gateway] = await collector.sample();
    assert.deepEqual([gateway!.traffic!.requests, gateway!.traffic!.errors], [8, 8]);
    assert.equal(assessApp([gateway!]).health, 'unhealthy');
  });
});
