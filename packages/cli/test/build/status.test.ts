import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { appHealth, readinessFromDeployments, workloadHealth } from '../../src/build/health-status.ts';
import { carrot, fixtureApp, tempDir } from './run-carrot.ts';

describe('health', () => {
  it('of a workload: healthy when all replicas are ready, degraded with some, unhealthy with none', () => {
    assert.equal(workloadHealth({ name: 'a', desired: 3, ready: 3 }), 'healthy');
    assert.equal(workloadHealth({ name: 'a', desired: 3, ready: 1 }), 'degraded');
    assert.equal(workloadHealth({ name: 'a', desired: 3, ready: 0 }), 'unhealthy');
    assert.equal(workloadHealth({ name: 'a', desired: 0, ready: 0 }), 'unhealthy');
  });

  it('of the app: healthy when every workload is, unhealthy when none has a ready replica', () => {
    const ok = { name: 'a', desired: 2, ready: 2 };
    const down = { name: 'b', desired: 2, ready: 0 };
    assert.equal(appHealth([ok, { ...ok, name: 'c' }]), 'healthy');
    assert.equal(appHealth([ok, down]), 'degraded');
    assert.equal(appHealth([down, { ...down, name: 'c' }]), 'unhealthy');
  });

  it('reads Kubernetes readiness from kubectl get deployments -o json', () => {
    const json = {
      items: [
        { metadata: { name: 'orders' }, spec: { replicas: 3 }, status: { readyReplicas: 2, replicas: 3 } },
        { metadata: { name: 'gateway' }, spec: { replicas: 2 }, status: { readyReplicas: 2 } },
      ],
    };
    assert.deepEqual(readinessFromDeployments(json, ['catalog', 'orders', 'gateway']), [
      { name: 'catalog', desired: 1, ready: 0, detail: 'no Deployment' },
      { name: 'orders', desired: 3, ready: 2 },
      { name: 'gateway', desired: 2, ready: 2 },
    ]);
  });
});

describe('carrot status', () => {
  it('asks every local process for /ready through the registry and aggregates', async () => {
    const server = createServer((req, res) => res.writeHead(req.url === '/ready' ? 200 : 404).end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const dataDir = tempDir();
    mkdirSync(dataDir, { recursive: true });
    const closed = 'https://127.0.0.1:1';
    writeFileSync(
      join(dataDir, 'registry.json'),
      JSON.stringify({ app: 'shop', gateway: { url: `http://127.0.0.1:${port}` }, services: { catalog: { url: closed }, orders: { url: closed } } }),
    );
    try {
      const result = await carrot(['status', fixtureApp('valid').file, '--data-dir', dataDir]);
      assert.equal(result.code, 1);
      assert.equal(result.out[0], 'shop (development, local processes): degraded');
      assert.match(result.out.find((l) => l.includes('gateway'))!, /gateway\s+healthy\s+1\/1 ready/);
      assert.match(result.out.find((l) => l.includes('catalog'))!, /catalog\s+unhealthy\s+0\/1 ready/);
      assert.match(result.out.find((l) => l.includes('payments'))!, /payments\s+unhealthy\s+0\/1 ready {2}\(not in the registry\)/);
    } finally {
      server.close();
    }
  });

  it('says what to do when nothing runs', async () => {
    const result = await carrot(['status', fixtureApp('valid').file, '--data-dir', tempDir(), '--source', 'local']);
    assert.equal(result.code, 1);
    assert.match(result.err[0]!, /no registry at .*registry\.json: is 'carrot dev' running for this app\?/);
  });

  it('refuses an unknown environment', async () => {
    const result = await carrot(['status', fixtureApp('valid').file, '--env', 'prod']);
    assert.equal(result.code, 2);
    assert.equal(result.err[0], "carrot status: --env must be one of development, staging, production, got 'prod'");
  });
});
