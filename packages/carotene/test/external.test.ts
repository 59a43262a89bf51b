import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { app, externalServices, implementedService, implementedServices } from '../src/declare/app.ts';
import { contract, rpc } from '../src/declare/contract.ts';
import { event } from '../src/declare/event.ts';
import { external, type ExternalOptions } from '../src/declare/external.ts';
import { handler } from '../src/declare/handler.ts';
import { implement } from '../src/declare/service.ts';
import { isCaroteneError } from '../src/errors.ts';

const Ranker = contract('ranker', {
  rank: rpc({ input: z.object({ items: z.array(z.string()) }), output: z.array(z.string()) }),
  health: rpc({ input: z.object({}), output: z.boolean() }),
});
const Catalog = contract('catalog', { get: rpc({ input: z.object({ id: z.string() }), output: z.string() }) });
const Ranked = event('ranker', 'Ranked', { version: 1, schema: z.object({ n: z.number() }) });
const Listed = event('catalog', 'Listed', { version: 1, schema: z.object({ id: z.string() }) });

const dev = { command: '/usr/bin/python3', args: ['server.py'], cwd: 'services/ranker' };
const deploy = { image: 'registry.example/ranker:1.0.0' };
const ok = (over: Partial<ExternalOptions<typeof Ranker>> = {}) => external('ranker', Ranker, { dev, deploy, ...over });

const catalog = implement(Catalog, { integrations: [Ranker] }).handlers({
  get: handler({ calls: [Ranker], route: 'GET /api/items/:id' }, async ({ id }, ctx) => {
    // a call to an external service is typed by its contract
    const ranked: string[] = await ctx.call.ranker.rank({ items: [id] });
    // @ts-expect-error: rank takes { items: string[] }
    await ctx.call.ranker.rank({ items: 1 });
    return ranked.join(',');
  }),
});

describe('external(name, Contract, options)', () => {
  it('declares a member of kind external, with its routes parsed as a handler route is', () => {
    const def = ok({
      calls: [Catalog],
      routes: { rank: { route: 'POST /api/rank', roles: ['admin'], status: 201 } },
      publishes: [Ranked],
      subscribes: [Listed],
      dev: { ...dev, env: { PYTHONUNBUFFERED: '1' }, check: { args: ['-c', 'import grpc'], hint: 'apt-get install python3-grpcio' } },
      deploy: { ...deploy, replicas: 2, resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } } },
    });
    assert.equal(def.kind, 'external');
    assert.equal(def.name, 'ranker');
    assert.deepEqual(
      def.integrations.map((c) => c.name),
      ['catalog'],
    );
    assert.deepEqual(def.routes, [
      { method: 'POST', path: '/api/rank', params: [], service: 'ranker', function: 'rank', auth: 'required', roles: ['admin'], status: 201 },
    ]);
    assert.deepEqual(def.publishes, [Ranked]);
    assert.equal(def.deploy.replicas, 2);
    assert.match(def.source ?? '', /external\.test\.ts:\d+$/);
  });

  it('refuses what it cannot run or deploy, saying which option is wrong', () => {
    const cases: Array<[() => unknown, RegExp]> = [
      [() => external('rankr' as 'ranker', Ranker, { dev, deploy }), /external service 'rankr': its contract is named 'ranker'; the names must match/],
      [() => external('ranker', {} as typeof Ranker, { dev, deploy }), /the second argument must be a contract/],
      [() => external('ranker', Ranker, { deploy } as never), /external service 'ranker': dev is required/],
      [() => external('ranker', Ranker, { dev } as never), /deploy is required/],
      [() => ok({ dev: { command: '' } }), /dev\.command: must name a program/],
      [() => ok({ dev: { command: 'python3', cwd: '/abs/path' } }), /dev\.cwd: must be relative to the app folder/],
      [() => ok({ dev: { command: 'python3', env: { CAROTENE_PORT: '1' } } }), /dev\.env: CAROTENE_\* variables are set by carrot dev/],
      [() => ok({ dev: { command: 'python3', check: { args: [], hint: 'x' } } }), /dev\.check\.args/],
      [() => ok({ dev: { command: 'python3', check: { args: ['-c', 'import grpc'] } as never } }), /dev\.check\.hint/],
      [() => ok({ dev: { command: 'python3', shell: true } as never }), /dev\.shell: unknown key/],
      [
        () => ok({ deploy: { image: 'registry.example/ranker' } }),
        /deploy\.image 'registry\.example\/ranker' needs a tag \(e\.g\. 'registry\.example\/ranker:1\.0\.0'\)/,
      ],
      [() => ok({ deploy: { image: 'has spaces:1' } }), /deploy\.image: must be a container image/],
      [() => ok({ deploy: { ...deploy, replicas: 0 } }), /deploy\.replicas/],
      [
        () => ok({ deploy: { ...deploy, resources: { requests: { cpu: 'lots', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } } }),
        /deploy\.resources\.requests\.cpu: must be a Kubernetes quantity/,
      ],
      [() => ok({ calls: [Ranker] }), /external service 'ranker': calls itself/],
      [() => ok({ calls: [Catalog, Catalog] }), /calls 'catalog' twice/],
      [() => ok({ calls: ['catalog' as never] }), /calls must list contracts, got a string/],
      [() => ok({ routes: { nope: { route: 'GET /x' } } as never }), /routes names 'nope', which is not a function of the contract/],
      [() => ok({ routes: { rank: { route: 'FETCH /x' as never } } }), /function 'rank': route 'FETCH \/x' must look like 'GET \/api\/things\/:id'/],
      [() => ok({ routes: { rank: { route: 'GET /x', auth: 'maybe' as never } } }), /auth must be 'required', 'optional' or 'none'/],
      [() => ok({ routes: { rank: {} as never } }), /function 'rank': a route needs route: 'GET \/api\/\.\.\.'/],
      [() => ok({ publishes: [Listed] }), /publishes 'catalog\.Listed', which belongs to service 'catalog'/],
      [() => ok({ subscribes: [Ranked] }), /subscribes to its own event 'ranker\.Ranked'/],
      [() => ok({ subscribes: [Listed, Listed] }), /subscribes lists 'catalog\.Listed' twice/],
      [() => ok({ nonsense: 1 } as never), /unknown option nonsense/],
    ];
    for (const [declare, message] of cases) assert.throws(declare, (err: unknown) => err instanceof TypeError && message.test(err.message), String(message));
  });
});

describe('app() with an external service', () => {
  it('takes it beside implemented services; the helpers narrow on kind', () => {
    const ranker = ok({ calls: [Catalog], routes: { rank: { route: 'POST /api/rank' } } });
    const shop = app({ name: 'shop', services: [catalog, ranker] });
    assert.deepEqual(
      implementedServices(shop).map((s) => s.name),
      ['catalog'],
    );
    assert.deepEqual(
      externalServices(shop).map((s) => s.name),
      ['ranker'],
    );
    assert.equal(implementedService(shop, 'catalog'), catalog);
    assert.throws(
      () => implementedService(shop, 'ranker'),
      (err: unknown) => isCaroteneError(err, 'INVALID_CONFIG') && /'ranker' of app 'shop' is an external service/.test(err.message),
    );
  });

  it('validates it like the others: its integrations, its routes, its name', () => {
    const cases: Array<[() => unknown, RegExp]> = [
      [() => app({ name: 'shop', services: [ok({ calls: [Catalog] })] }), /app 'shop': service 'ranker' depends on 'catalog', which is not part of the app/],
      [() => app({ name: 'shop', services: [catalog] }), /service 'catalog' depends on 'ranker', which is not part of the app/],
      [() => app({ name: 'shop', services: [catalog, ok(), ok()] }), /service 'ranker' is listed twice/],
      [
        () => app({ name: 'shop', services: [catalog, ok({ routes: { rank: { route: 'GET /api/items/:key' } } })] }),
        /route 'GET \/api\/items\/:key' is declared by both catalog\.get and ranker\.rank/,
      ],
      [() => app({ name: 'shop', services: [catalog, ok()], config: { ranker: {} } }), /config names 'ranker', an external service/],
      [
        () =>
          app({
            name: 'shop',
            services: [catalog, ok()],
            gateway: { auth: { jwks: { service: 'ranker', function: 'health' }, issuer: 'i', audience: 'a' } },
          }),
        /gateway auth reads keys from 'ranker', an external service/,
      ],
      [
        () => app({ name: 'shop', services: [catalog, { kind: 'nothing' } as never] }),
        /services must be declared with implement\(\.\.\.\) or external\(\.\.\.\), got a nothing/,
      ],
      [() => app({ name: 'shop', services: [catalog, ok(), 'x' as never] }), /got x/],
    ];
    for (const [declare, message] of cases) assert.throws(declare, (err: unknown) => err instanceof TypeError && message.test(err.message), String(message));
  });
});
