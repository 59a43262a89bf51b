import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { callEdges } from '../../src/build/app-graph.ts';
import { environmentManifests, type ArtifactInput } from '../../src/build/build-artifacts.ts';
import type { Manifest } from '../../src/build/manifests/kubernetes-manifests.ts';
import { loadApp } from '../../src/cli/app-module.ts';
import { ENVIRONMENT_NAMES } from '../../../carotene/src/declare/environments.ts';
import { carrot, SHOP, tempDir } from './run-carrot.ts';

const shop = await loadApp(SHOP);
const pem = { ca: 'CA PEM\n', cert: 'CERT PEM\n', key: 'KEY PEM\n' };
const input: ArtifactInput = {
  app: shop,
  environments: [...ENVIRONMENT_NAMES],
  layout: { appDir: 'examples/shop', appModule: 'app.ts', outDir: 'examples/shop/deploy' },
  paths: { context: '../../..', certsDir: '../.carotene/certs' },
  pems: Object.fromEntries([...shop.services.map((s) => s.name), 'gateway'].map((n) => [n, pem])),
  facts: { appVersion: '1.0.0' },
};

// biome-ignore lint/suspicious/noExplicitAny: reading generated YAML
type Json = Record<string, any>;
const ofKind = (ms: readonly Manifest[], kind: string): Json[] => ms.filter((m) => m.kind === kind) as Json[];
const names = (ms: readonly Json[]): string[] => ms.map((m) => m.metadata.name as string).sort();

/** Who a service's NetworkPolicy admits: the service names in its pod selectors. */
function admitted(policies: readonly Json[], service: string): string[] {
  const policy = policies.find((p) => p.metadata.name === `${service}-ingress`);
  assert.ok(policy, `no NetworkPolicy for ${service}`);
  return (policy.spec.ingress as Json[])
    .flatMap((rule) => (rule.from ?? []) as Json[])
    .filter((peer) => peer.podSelector)
    .map((peer) => peer.podSelector.matchLabels['app.kubernetes.io/name'] as string)
    .sort();
}

describe('the shop on Kubernetes', () => {
  for (const env of ENVIRONMENT_NAMES) {
    it(`${env}: every resource passes the Kubernetes schema, one workload per service and the gateway`, () => {
      const ms = environmentManifests(input, env); // validate() ran on each; it throws otherwise
      const services = shop.services.map((s) => s.name).sort();
      const workloads = [...services, 'gateway'].sort();
      assert.deepEqual(names(ofKind(ms, 'Deployment')), workloads);
      assert.deepEqual(names(ofKind(ms, 'Service')), workloads);
      assert.deepEqual(names(ofKind(ms, 'ServiceAccount')), workloads);
      assert.deepEqual(
        names(ofKind(ms, 'Secret')),
        workloads.map((w) => `${w}-tls`),
      );
      assert.deepEqual(names(ofKind(ms, 'Ingress')), ['gateway'], 'the gateway is the only thing reachable from outside');
      for (const s of ofKind(ms, 'Service')) assert.equal(s.spec.type, 'ClusterIP');
      const scaled = env === 'development' ? [] : workloads;
      assert.deepEqual(names(ofKind(ms, 'HorizontalPodAutoscaler')), scaled);
      assert.deepEqual(names(ofKind(ms, 'PodDisruptionBudget')), scaled);
      for (const d of ofKind(ms, 'Deployment')) {
        const pod = d.spec.template.spec;
        const [main] = pod.containers as Json[];
        assert.equal(main!.securityContext.runAsNonRoot, true);
        assert.equal(main!.securityContext.readOnlyRootFilesystem, true);
        assert.equal(pod.securityContext.runAsNonRoot, true);
        assert.ok(main!.resources.limits.memory && main!.resources.requests.cpu);
        assert.deepEqual(main!.envFrom, [{ configMapRef: { name: 'shop-config' } }]);
        const probes = JSON.stringify([main!.livenessProbe, main!.readinessProbe]);
        if (d.metadata.name === 'recommendations') {
          // an external service answers grpc.health.v1 over mutual TLS
          assert.match(probes, /grpc_health_probe.*-tls-client-cert=/);
        } else {
          assert.match(probes, /\/health/);
          assert.match(probes, /\/ready/);
        }
      }
      const orders = ofKind(ms, 'Deployment').find((d) => d.metadata.name === 'orders')!;
      const dbEnv = (orders.spec.template.spec.containers[0].env as Json[]).find((e) => e.name === 'CAROTENE_DATABASE_URL');
      if (env === 'development') {
        assert.equal(dbEnv, undefined, 'development keeps SQLite in the pod');
        assert.equal(orders.spec.template.spec.initContainers[0].name, 'migrate');
      } else {
        assert.deepEqual(dbEnv?.valueFrom, { secretKeyRef: { name: 'shop-databases', key: 'orders' } });
        assert.ok(ofKind(ms, 'Job').some((j) => j.metadata.name.startsWith('orders-migrate-')));
      }
    });
  }

  it('NetworkPolicies admit exactly the declared callers, the gateway for public routes and the scraper', () => {
    const policies = ofKind(environmentManifests(input, 'production'), 'NetworkPolicy');
    assert.deepEqual(policies.find((p) => p.metadata.name === 'default-deny-ingress')?.spec, { podSelector: {}, policyTypes: ['Ingress'] });
    const expected: Record<string, string[]> = {
      catalog: ['gateway', 'orders', 'recommendations'],
      orders: ['gateway'],
      // its OrderConfirmed events are pushed to it even with NATS: it reads no stream
      recommendations: ['gateway', 'orders'],
      payments: ['orders'],
      users: ['gateway'],
    };
    for (const [service, from] of Object.entries(expected)) assert.deepEqual(admitted(policies, service), from, service);
    // every other service of the shop admits its declared callers, plus the gateway only with public routes
    for (const s of shop.services.filter((x) => !(x.name in expected))) {
      const callers = callEdges(shop)
        .filter((e) => e.to === s.name)
        .map((e) => e.from);
      const gateway = s.routes.length > 0 || shop.gateway.auth?.jwks.service === s.name ? ['gateway'] : [];
      assert.deepEqual(admitted(policies, s.name), [...callers, ...gateway].sort(), s.name);
    }
    const ingress = policies.filter((x) => (x.spec.policyTypes as string[]).includes('Ingress'));
    for (const p of ingress.filter((x) => x.metadata.name !== 'default-deny-ingress' && x.metadata.name !== 'gateway-ingress')) {
      const scraper = (p.spec.ingress as Json[]).find((r) => r.from?.[0]?.namespaceSelector);
      assert.deepEqual(scraper?.from, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], p.metadata.name);
    }
  });

  it('with direct events, a subscriber also admits the publishers that push events to it', () => {
    const dev = ofKind(environmentManifests(input, 'development'), 'NetworkPolicy');
    const prod = ofKind(environmentManifests(input, 'production'), 'NetworkPolicy');
    for (const s of shop.services) {
      const callers = callEdges(shop)
        .filter((e) => e.to === s.name)
        .map((e) => e.from);
      const gateway = s.routes.length > 0 || shop.gateway.auth?.jwks.service === s.name ? ['gateway'] : [];
      const publishers = s.subscribes.map((e) => e.service);
      // through NATS, only events to or from a service in another language are pushed
      const pushed = s.kind === 'external' ? publishers : publishers.filter((p) => shop.services.find((x) => x.name === p)?.kind === 'external');
      assert.deepEqual(admitted(dev, s.name), [...new Set([...callers, ...gateway, ...publishers])].sort(), `development ${s.name}`);
      assert.deepEqual(admitted(prod, s.name), [...new Set([...callers, ...gateway, ...pushed])].sort(), `production ${s.name} (events through NATS)`);
    }
    assert.ok(
      shop.services.some((s) => s.subscribes.length > 0 && !callEdges(shop).some((e) => e.to === s.name && s.subscribes.some((x) => x.service === e.from))),
      'the shop has a subscriber only events reach',
    );
  });

  it('defines the JetStream stream and one durable consumer per subscriber and publisher where events use NATS', () => {
    assert.deepEqual(names(ofKind(environmentManifests(input, 'development'), 'ConfigMap')), ['shop-config'], 'direct events need no broker');
    const ms = environmentManifests(input, 'production');
    const config = ofKind(ms, 'ConfigMap').find((c) => c.metadata.name === 'shop-jetstream')!;
    assert.ok(ofKind(ms, 'Job').some((j) => j.metadata.name === 'shop-jetstream'));
    const stream = JSON.parse(config.data['stream-CAROTENE_SHOP.json']) as Json;
    assert.deepEqual(stream.subjects, ['carotene.shop.>']);
    assert.equal(stream.num_replicas, 3);
    const expected = shop.services
      .filter((s) => s.kind === 'service')
      .flatMap((s) => [...new Set(s.subscribes.map((e) => e.service))].map((publisher) => `consumer-shop_${s.name}_from_${publisher}.json`))
      .sort();
    assert.ok(expected.length > 0, 'the shop subscribes to events');
    assert.deepEqual(
      Object.keys(config.data)
        .filter((k) => k.startsWith('consumer-'))
        .sort(),
      expected,
    );
    const shared = ofKind(ms, 'ConfigMap').find((c) => c.metadata.name === 'shop-config')!;
    assert.equal(shared.data.CAROTENE_EVENTS, 'nats://nats:4222');
    assert.equal(shared.data.CAROTENE_ENVIRONMENT, 'production');
  });

  it('writes cert-manager Certificates instead of Secrets when configured', async () => {
    const { app } = await import('../../../carotene/src/declare/app.ts');
    const withIssuer = app({
      name: shop.name,
      services: shop.services,
      gateway: shop.gateway,
      environments: {
        production: { ...shop.environments?.production, certificates: { source: 'cert-manager', issuer: 'shop-ca', issuerKind: 'ClusterIssuer' } },
      },
    });
    const ms = environmentManifests({ ...input, app: withIssuer, pems: {} }, 'production');
    assert.deepEqual(ofKind(ms, 'Secret'), []);
    const orders = ofKind(ms, 'Certificate').find((c) => c.metadata.name === 'orders-tls')!;
    assert.deepEqual(orders.spec.uris, ['spiffe://shop/orders']);
    assert.deepEqual(orders.spec.issuerRef, { name: 'shop-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' });
  });

  it('carrot build --env production writes the same bytes twice, as one YAML stream and a kustomize folder', async () => {
    const dataDir = tempDir();
    const a = tempDir();
    const files = (dir: string): string[] =>
      readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => relative(dir, join(e.parentPath, e.name)))
        .sort();
    const snapshot = (): Map<string, string> => new Map(files(a).map((f) => [f, readFileSync(join(a, f), 'utf8')]));
    const runs: Array<Map<string, string>> = [];
    for (let i = 0; i < 2; i++) {
      const result = await carrot(['build', SHOP, '--env', 'production', '--out', a, '--data-dir', dataDir, '--no-typecheck']);
      assert.equal(result.code, 0, result.err.join('\n'));
      runs.push(snapshot());
    }
    assert.deepEqual([...runs[1]!.keys()], [...runs[0]!.keys()]);
    for (const [f, text] of runs[0]!) assert.equal(runs[1]!.get(f), text, f);

    const stream = parseAllDocuments(readFileSync(join(a, 'kubernetes', 'production.yaml'), 'utf8')).map((d) => d.toJSON() as Json);
    const kustomization = parseAllDocuments(readFileSync(join(a, 'kubernetes', 'production', 'kustomization.yaml'), 'utf8'))[0]!.toJSON() as Json;
    assert.equal(kustomization.resources.length, stream.length);
    assert.ok(
      files(a).includes('docker/orders.Dockerfile') &&
        files(a).includes('compose.yaml') &&
        files(a).includes('openapi.json') &&
        files(a).includes('topology.mmd'),
    );
    assert.equal(readFileSync(join(a, '.gitignore'), 'utf8').split('\n').includes('*'), true, 'the output ignores itself in git (it holds keys)');
    const secret = stream.find((m) => m.kind === 'Secret' && m.metadata.name === 'orders-tls')!;
    assert.equal(Buffer.from(secret.data['tls.crt'], 'base64').toString(), readFileSync(join(dataDir, 'certs', 'orders.crt'), 'utf8'));
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  it(`kubectl parses the output (apply --dry-run=client --validate=false; kustomize offline)${kubectl ? '' : ' — skipped: no kubectl on this machine'}`, {
    skip: !kubectl,
  }, async () => {
    const out = tempDir();
    assert.equal((await carrot(['build', SHOP, '--out', out, '--data-dir', tempDir(), '--no-typecheck'])).code, 0);
    for (const env of ENVIRONMENT_NAMES) {
      const file = join(out, 'kubernetes', `${env}.yaml`);
      const count = parseAllDocuments(readFileSync(file, 'utf8')).length;
      const apply = spawnSync('kubectl', ['apply', '--dry-run=client', '--validate=false', '-f', file, '-o', 'name'], { encoding: 'utf8' });
      // kubectl decodes every document first; mapping kinds then needs an API server, which CI does not have
      assert.doesNotMatch(apply.stderr, /error (parsing|converting YAML|validating)|yaml:/i, apply.stderr);
      if (apply.status === 0) assert.equal(apply.stdout.trim().split('\n').length, count);
      const built = execFileSync('kubectl', ['kustomize', join(out, 'kubernetes', env)], { encoding: 'utf8' });
      assert.equal(parseAllDocuments(built).length, count, `kustomize ${env}`);
    }
  });
});
