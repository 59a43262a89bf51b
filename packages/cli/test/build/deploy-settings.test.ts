// Deploy settings that take effect: an environment's gateway settings reach the gateway
// through the ConfigMap, production refuses what would silently misbehave (per-replica rate
// limits, an Ingress without host or class), the Ingress has TLS, PDBs and HPAs agree with
// docs/deploy.md, and images carry a release tag.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { app } from '../../../carotene/src/declare/app.ts';
import type { EnvironmentsInput } from '../../../carotene/src/declare/environments.ts';
import { checkDeployable } from '../../src/build/deploy-checks.ts';
import { resolveEnvironment } from '../../src/build/environment.ts';
import { kubernetesManifests, type Manifest } from '../../src/build/manifests/kubernetes-manifests.ts';
import { GATEWAY_MAIN } from '../../src/cli/entries.ts';
import { carrot, fixtureApp, SHOP, tempDir } from './run-carrot.ts';
import { catalog, orders, payments } from './fixtures/services.ts';

// biome-ignore lint/suspicious/noExplicitAny: reading generated YAML
type Json = Record<string, any>;

const PROD_GATEWAY = { domain: 'api.shop.example', ingressClass: 'nginx' } as const;

function shopLike(environments: EnvironmentsInput, gateway: Parameters<typeof app>[0]['gateway'] = {}) {
  return app({ name: 'shop', services: [catalog, orders, payments], gateway, environments });
}

function manifests(def: ReturnType<typeof shopLike>, env: 'development' | 'staging' | 'production' = 'production'): Json[] {
  return kubernetesManifests({
    app: def,
    env: resolveEnvironment(def, env, { appVersion: '1.0.0' }),
    layout: { appFile: '/app/app.ts' },
    pems: {},
  }) as Manifest[] as Json[];
}

const one = (ms: Json[], kind: string, name: string): Json => {
  const found = ms.find((m) => m.kind === kind && m.metadata.name === name);
  assert.ok(found, `no ${kind} ${name}`);
  return found;
};

const refusal = (def: ReturnType<typeof shopLike>, env: 'development' | 'staging' | 'production' = 'production', facts = { appVersion: '1.0.0' }) => {
  try {
    checkDeployable(def, resolveEnvironment(def, env, facts));
  } catch (err) {
    return (err as Error & { code?: string }).code === 'INVALID_CONFIG' ? (err as Error).message : `unexpected ${String(err)}`;
  }
  return undefined;
};

describe('deploy settings: refusals of a production build', () => {
  const limited = { rateLimit: { routes: { 'POST /api/orders/:orderId/checkout': { capacity: 5, refillPerSecond: 1 } } } } as const;

  it('refuses rate limits in memory when the gateway has more than one replica, naming the setting', () => {
    const message = refusal(shopLike({ production: { gateway: PROD_GATEWAY } }, limited));
    assert.match(message ?? '', /^environments\.production\.gateway\.rateLimit: the gateway runs 3 replicas and keeps its rate limits in each one's memory/);
    assert.match(message ?? '', /rateLimit\.redis: \{ url \}.*rateLimit\.perReplica: true/);
    // the environment's own limits count too
    assert.match(refusal(shopLike({ production: { gateway: { ...PROD_GATEWAY, ...limited } } })) ?? '', /gateway\.rateLimit: the gateway runs 3 replicas/);
  });

  it('accepts them shared through Redis, on one replica, explicitly per replica, or outside production', () => {
    assert.equal(refusal(shopLike({ production: { gateway: { ...PROD_GATEWAY, rateLimit: { redis: { url: 'redis://redis:6379' } } } } }, limited)), undefined);
    assert.equal(
      refusal(shopLike({ production: { gateway: PROD_GATEWAY } }, { rateLimit: { ...limited.rateLimit, redis: { url: 'redis://redis:6379' } } })),
      undefined,
    );
    assert.equal(refusal(shopLike({ production: { gateway: { ...PROD_GATEWAY, replicas: 1 } } }, limited)), undefined);
    assert.equal(refusal(shopLike({ production: { gateway: { ...PROD_GATEWAY, rateLimit: { perReplica: true } } } }, limited)), undefined);
    assert.equal(refusal(shopLike({}, limited), 'staging'), undefined);
    assert.equal(refusal(shopLike({ production: { gateway: PROD_GATEWAY } })), undefined, 'no rate limits, nothing to share');
  });

  it('refuses a production Ingress without a domain or an ingress class', () => {
    assert.match(refusal(shopLike({ production: { gateway: { ingressClass: 'nginx' } } })) ?? '', /^environments\.production\.gateway\.domain is required/);
    assert.match(
      refusal(shopLike({ production: { gateway: { domain: 'api.shop.example' } } })) ?? '',
      /^environments\.production\.gateway\.ingressClass is required/,
    );
    assert.equal(refusal(shopLike({}), 'staging'), undefined, 'staging may use the cluster default class and <app>.localhost');
  });

  it('carrot build exits 1 naming the setting, and writes nothing', async () => {
    const out = tempDir();
    const result = await carrot(['build', fixtureApp('valid').file, '--env', 'production', '--out', out, '--data-dir', tempDir(), '--image-tag', '1.0.0']);
    assert.equal(result.code, 1);
    assert.match(result.err.join('\n'), /environments\.production\.gateway\.domain is required/);
  });
});

describe('deploy settings: the Ingress, the disruption budget, the autoscaler', () => {
  it('production: TLS from the Secret <app>-gateway-tls by default, the configured class and host', () => {
    const ingress = one(manifests(shopLike({ production: { gateway: PROD_GATEWAY } })), 'Ingress', 'gateway');
    assert.equal(ingress.spec.ingressClassName, 'nginx');
    assert.deepEqual(ingress.spec.tls, [{ hosts: ['api.shop.example'], secretName: 'shop-gateway-tls' }]);
    assert.equal(ingress.spec.rules[0].host, 'api.shop.example');
  });

  it('a named Secret, a cert-manager issuer (annotation for its ingress-shim), or plain HTTP only when said', () => {
    const named = one(
      manifests(shopLike({ production: { gateway: { ...PROD_GATEWAY, tls: { source: 'secret', secretName: 'api-cert' } } } })),
      'Ingress',
      'gateway',
    );
    assert.deepEqual(named.spec.tls, [{ hosts: ['api.shop.example'], secretName: 'api-cert' }]);
    const cluster = one(
      manifests(
        shopLike({ production: { gateway: { ...PROD_GATEWAY, tls: { source: 'cert-manager', issuer: 'letsencrypt', issuerKind: 'ClusterIssuer' } } } }),
      ),
      'Ingress',
      'gateway',
    );
    assert.deepEqual(cluster.metadata.annotations, { 'cert-manager.io/cluster-issuer': 'letsencrypt' });
    assert.deepEqual(cluster.spec.tls, [{ hosts: ['api.shop.example'], secretName: 'shop-gateway-tls' }]);
    const namespaced = one(
      manifests(shopLike({ production: { gateway: { ...PROD_GATEWAY, tls: { source: 'cert-manager', issuer: 'shop-acme' } } } })),
      'Ingress',
      'gateway',
    );
    assert.deepEqual(namespaced.metadata.annotations, { 'cert-manager.io/issuer': 'shop-acme' });
    const plain = one(manifests(shopLike({ production: { gateway: { ...PROD_GATEWAY, tls: { source: 'none' } } } })), 'Ingress', 'gateway');
    assert.equal(plain.spec.tls, undefined);
    assert.equal(one(manifests(shopLike({}), 'development'), 'Ingress', 'gateway').spec.tls, undefined, 'development: plain HTTP on <app>.localhost');
    assert.deepEqual(one(manifests(shopLike({}), 'staging'), 'Ingress', 'gateway').spec.tls, [{ hosts: ['shop.localhost'], secretName: 'shop-gateway-tls' }]);
  });

  it('every disruption budget lets one pod go at a time, however far its autoscaler scaled', () => {
    const ms = manifests(shopLike({ production: { gateway: { ...PROD_GATEWAY, maxReplicas: 9 }, services: { orders: { replicas: 3, maxReplicas: 12 } } } }));
    const budgets = ms.filter((m) => m.kind === 'PodDisruptionBudget');
    assert.deepEqual(budgets.map((b) => b.metadata.name).sort(), ['catalog', 'gateway', 'orders', 'payments']);
    for (const b of budgets) {
      assert.equal(b.spec.maxUnavailable, 1, b.metadata.name);
      assert.equal(b.spec.minAvailable, undefined, b.metadata.name);
    }
    assert.equal(one(ms, 'HorizontalPodAutoscaler', 'orders').spec.maxReplicas, 12);
    assert.equal(one(ms, 'HorizontalPodAutoscaler', 'gateway').spec.maxReplicas, 9);
    assert.equal(one(ms, 'HorizontalPodAutoscaler', 'catalog').spec.maxReplicas, 6, 'twice the replicas by default');
  });
});

describe('deploy settings: image tags', () => {
  const images = (ms: Json[]) => ms.filter((m) => m.kind === 'Deployment').map((d) => d.spec.template.spec.containers[0].image as string);

  it('--image-tag wins over the environment, which wins over the package version; never latest', () => {
    const def = shopLike({ production: { gateway: PROD_GATEWAY }, staging: { image: { tag: '3.1.0' } } });
    const tagOf = (env: 'staging' | 'production', facts: { imageTag?: string; appVersion?: string }) => resolveEnvironment(def, env, facts).image.tag;
    assert.equal(tagOf('production', { imageTag: '9.9.9', appVersion: '1.0.0' }), '9.9.9');
    assert.equal(tagOf('staging', { appVersion: '1.0.0' }), '3.1.0');
    assert.equal(tagOf('staging', { imageTag: '9.9.9' }), '9.9.9');
    assert.equal(tagOf('production', { appVersion: '1.0.0' }), '1.0.0');
    assert.match(
      refusal(def, 'production', {} as { appVersion: string }) ?? '',
      /^environments\.production\.image\.tag: no image tag; pass 'carrot build --image-tag <tag>'/,
    );
    assert.match(
      refusal(shopLike({ development: { image: { tag: 'latest' } } }), 'development') ?? '',
      /^environments\.development\.image\.tag: 'latest' names whatever was pushed last/,
    );
    for (const image of images(manifests(def))) assert.match(image, /^shop\/[a-z]+:1\.0\.0$/);
  });

  it('carrot build tags the shop from its package.json, or from --image-tag, and refuses latest', async () => {
    const version = (JSON.parse(readFileSync(join(SHOP, '..', 'package.json'), 'utf8')) as { version: string }).version;
    const built = async (...flags: string[]) => {
      const out = tempDir();
      const result = await carrot(['build', SHOP, '--env', 'production', '--out', out, '--data-dir', tempDir(), ...flags]);
      return { result, out };
    };
    const imagesIn = (out: string) => {
      const stream = parseAllDocuments(readFileSync(join(out, 'kubernetes', 'production.yaml'), 'utf8')).map((d) => d.toJSON() as Json);
      // the migration Jobs run the app's images too (the JetStream Job runs NATS's own, pinned)
      const jobs = stream.filter((m) => m.kind === 'Job' && m.metadata.name.includes('-migrate-'));
      assert.ok(jobs.length > 0);
      // an external service's image is its own (`deploy.image`), whatever the build's tag
      const external = stream.find((m) => m.kind === 'Deployment' && m.metadata.name === 'recommendations');
      assert.equal(external?.spec.template.spec.containers[0].image, 'shop/recommendations:0.3.0');
      const ours = stream.filter((m) => m !== external);
      return [...images(ours), ...jobs.flatMap((j) => j.spec.template.spec.containers.map((c: Json) => c.image as string))];
    };
    const plain = await built();
    assert.equal(plain.result.code, 0, plain.result.err.join('\n'));
    for (const image of imagesIn(plain.out)) assert.ok(image.endsWith(`:${version}`), image);
    assert.doesNotMatch(readFileSync(join(plain.out, 'compose.yaml'), 'utf8'), /:latest/);
    const tagged = await built('--image-tag', '2024.06.1-rc1');
    assert.equal(tagged.result.code, 0, tagged.result.err.join('\n'));
    for (const image of imagesIn(tagged.out)) assert.ok(image.endsWith(':2024.06.1-rc1'), image);
    const latest = await built('--image-tag', 'latest');
    assert.equal(latest.result.code, 1);
    assert.match(latest.result.err.join('\n'), /'latest' names whatever was pushed last/);
    const bad = await built('--image-tag', 'a/b');
    assert.equal(bad.result.code, 2);
  });
});

describe('deploy settings: the gateway reads its environment from the ConfigMap', () => {
  const fixture = fixtureApp('deploy-settings');
  let data: Record<string, string>;
  let dataDir: string;
  let silent: Server;
  const held: Socket[] = [];

  before(async () => {
    dataDir = tempDir();
    const out = tempDir();
    const result = await carrot(['build', fixture.file, '--env', 'production', '--out', out, '--data-dir', dataDir]);
    assert.equal(result.code, 0, result.err.join('\n'));
    const stream = parseAllDocuments(readFileSync(join(out, 'kubernetes', 'production.yaml'), 'utf8')).map((d) => d.toJSON() as Json);
    data = one(stream, 'ConfigMap', 'deploy-test-config').data as Record<string, string>;
    // a service that accepts connections and never answers: only the gateway's deadline ends a call
    silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const s of held) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it("writes the environment's gateway settings as CAROTENE_GATEWAY, and no keys nothing reads", () => {
    assert.deepEqual(JSON.parse(data.CAROTENE_GATEWAY!), {
      rateLimit: { default: { capacity: 2, refillPerSecond: 0.01 }, perReplica: true },
      cors: { origins: ['https://deploy.example'] },
      timeoutMs: 300,
    });
    assert.deepEqual(
      Object.keys(data).filter((k) => k.startsWith('CAROTENE_GATEWAY_')),
      [],
    );
    assert.equal(data.CAROTENE_ENVIRONMENT, 'production');
  });

  it("started with the ConfigMap's values, the gateway enforces the production rate limit, CORS and deadline", async () => {
    const { port } = silent.address() as { port: number };
    const registry = join(dataDir, 'registry.json');
    writeFileSync(
      registry,
      JSON.stringify({ app: 'deploy-test', gateway: { url: 'http://127.0.0.1:0' }, services: { things: { url: `https://127.0.0.1:${port}` } } }),
    );
    const { 'registry.json': _, ...vars } = data;
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...vars,
      // what the Deployment sets itself, pointed at this machine (certificates issued by the build)
      CAROTENE_APP_FILE: fixture.file,
      CAROTENE_SERVICE: 'gateway',
      CAROTENE_HOST: '127.0.0.1',
      CAROTENE_PORT: '0',
      CAROTENE_DATA_DIR: dataDir,
      CAROTENE_REGISTRY: registry,
    };
    const child = spawn(process.execPath, [GATEWAY_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let text = '';
        let err = '';
        child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
        child.stdout!.on('data', (c: Buffer) => {
          text += c.toString();
          const line = text.split('\n').find((l) => l.includes('"gateway listening"'));
          if (line) resolve((JSON.parse(line) as { url: string }).url);
        });
        child.on('exit', (code) => reject(new Error(`gateway exited ${code}: ${text} ${err}`)));
      });

      // CORS: production's origin, not the app's own
      const preflight = (origin: string) => fetch(`${url}/api/things`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } });
      const allowed = await preflight('https://deploy.example');
      assert.equal(allowed.status, 204);
      assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://deploy.example');
      assert.equal((await preflight('http://localhost:5173')).status, 403);

      // the deadline: production's 300 ms, not the app's 10 s
      const started = Date.now();
      const slow = await fetch(`${url}/api/things`);
      const took = Date.now() - started;
      assert.equal(slow.status, 504, await slow.text());
      assert.ok(took < 3_000, `answered after ${took} ms`);
      assert.equal(slow.headers.get('ratelimit-limit'), '2');

      // the rate limit: 2 in a burst
      await (await fetch(`${url}/api/things`)).body?.cancel();
      const third = await fetch(`${url}/api/things`);
      assert.equal(third.status, 429);
      assert.equal(((await third.json()) as { error: { code: string } }).error.code, 'RATE_LIMITED');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
