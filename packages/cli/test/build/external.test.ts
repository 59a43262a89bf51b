import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { app, external } from '../../../carotene/src/index.ts';
import { environmentManifests, type ArtifactInput } from '../../src/build/build-artifacts.ts';
import type { Manifest } from '../../src/build/manifests/kubernetes-manifests.ts';
import { topologyDiagram } from '../../src/build/mermaid.ts';
import { validateApp } from '../../src/build/validate-app.ts';
import { topologyOf } from '../../src/dashboard/topology.ts';
import { loadApp } from '../../src/cli/app-module.ts';
import { catalog, Catalog } from './fixtures/services.ts';
import { carrot, fixtureApp, tempDir } from './run-carrot.ts';

const fixture = fixtureApp('with-external');
const shop = await loadApp(fixture.file);
const pem = { ca: 'CA PEM\n', cert: 'CERT PEM\n', key: 'KEY PEM\n' };
const input: ArtifactInput = {
  app: shop,
  environments: ['development', 'production'],
  layout: { appDir: 'test', appModule: 'with-external.ts', outDir: 'test/deploy' },
  paths: { context: '..', certsDir: '../.carotene/certs' },
  pems: Object.fromEntries([...shop.services.map((s) => s.name), 'gateway'].map((n) => [n, pem])),
  facts: { appVersion: '1.0.0' },
};

// biome-ignore lint/suspicious/noExplicitAny: reading generated manifests
type Json = Record<string, any>;
const one = (ms: readonly Manifest[], kind: string, name: string): Json => {
  const m = ms.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(m, `no ${kind} '${name}'`);
  return m as Json;
};
const podNames = (peers: readonly Json[]): string[] =>
  peers
    .filter((p) => p.podSelector?.matchLabels?.['app.kubernetes.io/name'])
    .map((p) => p.podSelector.matchLabels['app.kubernetes.io/name'] as string)
    .sort();

describe('carrot build with an external service', () => {
  const ms = environmentManifests(input, 'production');

  it('deploys its own image with its replicas, the env it has under dev, and gRPC health probes over mutual TLS', () => {
    const d = one(ms, 'Deployment', 'recommendations');
    assert.equal(d.spec.replicas, 2, 'deploy.replicas');
    const pod = d.spec.template.spec;
    assert.equal(pod.serviceAccountName, 'recommendations');
    assert.equal(d.spec.template.metadata.annotations, undefined, 'no Carotene /metrics to scrape');
    const c = pod.containers[0] as Json;
    assert.equal(pod.containers.length, 1);
    assert.equal(pod.initContainers, undefined, 'no migrations: its storage is its own');
    assert.equal(c.image, 'registry.example/recommendations:2.1.0');
    assert.equal(c.command, undefined, "the image's own entrypoint");
    assert.deepEqual(Object.fromEntries((c.env as Json[]).map((e) => [e.name, e.value])), {
      CAROTENE_ALLOWED_CALLERS: 'gateway,orders',
      CAROTENE_APP: 'shop',
      CAROTENE_DATA_DIR: '/data',
      CAROTENE_HOST: '0.0.0.0',
      CAROTENE_PEER_CATALOG_PROTOCOL: 'carotene',
      CAROTENE_PEER_CATALOG_URL: 'https://catalog.shop-production.svc:8443',
      CAROTENE_PORT: '8443',
      CAROTENE_PROTO_DIR: '/app/proto',
      CAROTENE_REGISTRY: '/etc/carotene/registry.json',
      CAROTENE_SERVICE: 'recommendations',
      CAROTENE_TLS_CA: '/run/carotene/tls/ca.crt',
      CAROTENE_TLS_CERT: '/run/carotene/tls/tls.crt',
      CAROTENE_TLS_KEY: '/run/carotene/tls/tls.key',
    });
    assert.deepEqual(c.envFrom, [{ configMapRef: { name: 'shop-config' } }]);
    assert.deepEqual(c.ports, [{ name: 'grpc', containerPort: 8443, protocol: 'TCP' }]);
    for (const probe of [c.livenessProbe, c.readinessProbe]) {
      assert.deepEqual(probe.exec.command, [
        'grpc_health_probe',
        '-addr=127.0.0.1:8443',
        '-tls',
        '-tls-no-verify',
        '-tls-client-cert=/run/carotene/tls/tls.crt',
        '-tls-client-key=/run/carotene/tls/tls.key',
        '-connect-timeout=2s',
        '-rpc-timeout=2s',
      ]);
    }
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(
      pod.volumes.find((v: Json) => v.name === 'tls'),
      { name: 'tls', secret: { secretName: 'recommendations-tls', defaultMode: 0o440 } },
    );
    assert.equal(one(ms, 'Secret', 'recommendations-tls').type, 'kubernetes.io/tls');
    const svc = one(ms, 'Service', 'recommendations');
    assert.deepEqual(svc.spec.ports, [{ name: 'grpc', port: 8443, targetPort: 'grpc', protocol: 'TCP' }]);
    assert.ok(one(ms, 'PodDisruptionBudget', 'recommendations') && one(ms, 'HorizontalPodAutoscaler', 'recommendations'));
  });

  it('admits only its declared callers and the gateway (it has a route), and lets it reach only what it calls and DNS', () => {
    const ingress = one(ms, 'NetworkPolicy', 'recommendations-ingress');
    assert.deepEqual(podNames(ingress.spec.ingress.flatMap((r: Json) => r.from)), ['gateway', 'orders']);
    for (const rule of ingress.spec.ingress) assert.deepEqual(rule.ports, [{ port: 8443, protocol: 'TCP' }]);
    const egress = one(ms, 'NetworkPolicy', 'recommendations-egress');
    assert.deepEqual(egress.spec.policyTypes, ['Egress']);
    assert.deepEqual(podNames(egress.spec.egress[0].to), ['catalog']);
    assert.deepEqual(egress.spec.egress[0].ports, [{ port: 8443, protocol: 'TCP' }]);
    assert.deepEqual(egress.spec.egress[1].ports, [
      { port: 53, protocol: 'UDP' },
      { port: 53, protocol: 'TCP' },
    ]);
    // the service it calls admits it
    assert.deepEqual(podNames(one(ms, 'NetworkPolicy', 'catalog-ingress').spec.ingress.flatMap((r: Json) => r.from)), ['gateway', 'orders', 'recommendations']);
    // its caller's egress is not restricted, so orders reaches it
    assert.equal(
      ms.some(
        (m) =>
          m.kind === 'NetworkPolicy' &&
          (m as Json).spec.podSelector.matchLabels?.['app.kubernetes.io/name'] === 'orders' &&
          (m as Json).spec.policyTypes.includes('Egress'),
      ),
      false,
    );
  });

  it('puts it in the cluster registry as gRPC, and builds no image, database or migration Job for it', () => {
    const registry = JSON.parse(one(ms, 'ConfigMap', 'shop-config').data['registry.json']);
    assert.deepEqual(registry.services.recommendations, { url: 'https://recommendations.shop-production.svc:8443', protocol: 'grpc' });
    assert.equal(registry.services.catalog.protocol, undefined);
    assert.ok(!ms.some((m) => m.kind === 'Job' && m.metadata.name.startsWith('recommendations')));
  });

  it('shows it as an external gRPC service in the topology and the dashboard graph', () => {
    assert.match(topologyDiagram(shop), /svc_recommendations\{\{"recommendations<br\/>external · gRPC"\}\}/);
    assert.match(topologyDiagram(shop), /svc_orders -->\|calls\| svc_recommendations/);
    const node = topologyOf(shop).nodes.find((n) => n.id === 'recommendations');
    assert.equal(node?.label, 'external · gRPC');
    assert.deepEqual(node?.routes, ['GET /api/recommendations/:userId']);
    assert.equal(topologyOf(shop).nodes.find((n) => n.id === 'orders')?.label, undefined);
  });

  it('passes the build rules, and refuses a mutable tag on its image', () => {
    assert.deepEqual(validateApp(shop), []);
    const latest = app({
      name: 'shop',
      services: [catalog, external('recs', { ...Catalog, name: 'recs' }, { dev: { command: 'python3' }, deploy: { image: 'registry.example/recs:latest' } })],
    });
    assert.throws(
      () => environmentManifests({ ...input, app: latest }, 'development'),
      /external service 'recs': deploy\.image 'registry\.example\/recs:latest' names whatever was pushed last/,
    );
  });

  it('carrot build --env production writes it, with no Dockerfile of its own, and compose runs its image', async () => {
    const out = tempDir();
    const result = await carrot(['build', fixture.file, '--env', 'production', '--out', out, '--data-dir', tempDir(), '--image-tag', '1.4.0']);
    assert.equal(result.code, 0, result.err.join('\n'));
    const yaml = readFileSync(join(out, 'kubernetes', 'production.yaml'), 'utf8');
    assert.match(yaml, /image: registry\.example\/recommendations:2\.1\.0/);
    assert.match(yaml, /image: shop\/orders:1\.4\.0/);
    assert.throws(() => readFileSync(join(out, 'docker', 'recommendations.Dockerfile')), /ENOENT/);
    const compose = parse(readFileSync(join(out, 'compose.yaml'), 'utf8'));
    assert.equal(compose.services.recommendations.image, 'registry.example/recommendations:2.1.0');
    assert.equal(compose.services.recommendations.build, undefined);
    assert.equal(compose.services.recommendations.environment.CAROTENE_PEER_CATALOG_URL, 'https://catalog:8443');
    assert.equal(compose.services.recommendations.environment.CAROTENE_ALLOWED_CALLERS, 'gateway,orders');
    assert.doesNotMatch(readFileSync(join(out, 'compose', 'init-databases.sql'), 'utf8'), /recommendations/);
  });
});
