import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AppDef } from '../../../carotene/src/declare/app.ts';
import { databaseEnvName, GATEWAY_AWAITS_SERVICES_MS, GATEWAY_MAIN, planDev, RUNTIME_MAIN } from '../../src/cli/dev-plan.ts';
import { readProcessEnv } from '../../../runtime/src/service/process-env.ts';

// planDev reads only names from the services
const shop = { kind: 'app', name: 'shop', services: [{ name: 'users' }, { name: 'order-history' }], gateway: {}, config: {} } as unknown as AppDef;

const plan = planDev({
  app: shop,
  appFile: '/apps/shop/app.ts',
  dataDir: '/apps/shop/.carotene',
  gateway: { host: '0.0.0.0', port: 8080 },
  servicePorts: [41001, 41002],
  env: {
    PATH: '/usr/bin',
    CAROTENE_DATABASE_URL: 'postgres://shared/db',
    CAROTENE_DATABASE_URL_ORDER_HISTORY: 'postgres://db/order_history',
    CAROTENE_LOG_LEVEL: 'debug',
  },
});

test('the registry names every service as https on 127.0.0.1 and a reachable gateway URL', () => {
  assert.deepEqual(plan.registry, {
    app: 'shop',
    gateway: { url: 'http://127.0.0.1:8080' },
    services: {
      users: { url: 'https://127.0.0.1:41001', instances: [{ url: 'https://127.0.0.1:41001' }] },
      'order-history': { url: 'https://127.0.0.1:41002', instances: [{ url: 'https://127.0.0.1:41002' }] },
    },
  });
  assert.equal(plan.registryFile, '/apps/shop/.carotene/registry.json');
});

test('--scale runs more instances of a service: each its own process and port, all in the registry, started after the first', () => {
  const scaled = planDev({
    app: shop,
    appFile: '/apps/shop/app.ts',
    dataDir: '/apps/shop/.carotene',
    gateway: { host: '127.0.0.1', port: 8080 },
    servicePorts: [41001, 41002, 41003, 41004],
    scale: new Map([['users', 3]]),
    env: {},
  });
  assert.deepEqual(scaled.registry.services.users, {
    url: 'https://127.0.0.1:41001',
    instances: [{ url: 'https://127.0.0.1:41001' }, { url: 'https://127.0.0.1:41002' }, { url: 'https://127.0.0.1:41003' }],
  });
  assert.equal(scaled.registry.services['order-history']?.url, 'https://127.0.0.1:41004');
  assert.deepEqual(
    scaled.specs.map((s) => [s.name, s.stage ?? 0, s.env.CAROTENE_SERVICE, s.env.CAROTENE_PORT]),
    [
      ['users', 0, 'users', '41001'],
      ['users#2', 0.5, 'users', '41002'],
      ['users#3', 0.5, 'users', '41003'],
      ['order-history', 0, 'order-history', '41004'],
      ['gateway', 0, 'gateway', '8080'],
    ],
  );
  assert.equal(scaled.specs[1]!.logFile, '/apps/shop/.carotene/logs/users#2.log');
  // spawned with the services, but ready (listening) only once every instance is
  assert.deepEqual(
    scaled.specs.map((s) => s.awaitsOthers ?? false),
    [false, false, false, false, true],
  );
  assert.equal(scaled.databases.length, 2, 'one database per service, whatever its instances');
});

test('services and the gateway start together, each as node --import tsx <entry>', () => {
  assert.deepEqual(
    plan.specs.map((s) => s.name),
    ['users', 'order-history', 'gateway'],
  );
  for (const spec of plan.specs) {
    assert.equal(spec.command, process.execPath);
    assert.equal(spec.args[0], '--import');
    assert.match(spec.args[1] ?? '', /^file:\/\/.*\/tsx\/dist\/loader\.mjs$/);
  }
  assert.equal(plan.specs[0]?.args[2], RUNTIME_MAIN);
  assert.equal(plan.specs[2]?.args[2], GATEWAY_MAIN);
  assert.match(RUNTIME_MAIN, /\/packages\/runtime\/src\/service\/main\.ts$/);
  assert.deepEqual(
    plan.specs.map((s) => s.readyUrl),
    ['https://127.0.0.1:41001/ready', 'https://127.0.0.1:41002/ready', 'http://127.0.0.1:8080/ready'],
  );
  // services are probed over mutual TLS as carrot itself; the gateway is the public, plain listener
  assert.deepEqual(
    plan.specs.map((s) => s.readyTls?.cert),
    ['/apps/shop/.carotene/certs/carrot.crt', '/apps/shop/.carotene/certs/carrot.crt', undefined],
  );
  assert.deepEqual(
    plan.specs.map((s) => s.logFile),
    ['users', 'order-history', 'gateway'].map((n) => `/apps/shop/.carotene/logs/${n}.log`),
  );
});

test('each child gets the process-env contract for its own service', () => {
  const [users, history, gateway] = plan.specs.map((s) => readProcessEnv(s.env as NodeJS.ProcessEnv));
  assert.deepEqual(users, {
    appFile: '/apps/shop/app.ts',
    service: 'users',
    host: '127.0.0.1',
    port: 41001,
    dataDir: '/apps/shop/.carotene',
    registryFile: '/apps/shop/.carotene/registry.json',
    databaseUrl: undefined,
    logLevel: 'debug',
    tls: { ca: '/apps/shop/.carotene/certs/ca-bundle.pem', cert: '/apps/shop/.carotene/certs/users.crt', key: '/apps/shop/.carotene/certs/users.key' },
  });
  assert.equal(gateway?.tls?.cert, '/apps/shop/.carotene/certs/gateway.crt');
  assert.equal(history?.databaseUrl, 'postgres://db/order_history');
  assert.equal(gateway?.service, 'gateway');
  assert.equal(gateway?.host, '0.0.0.0');
  assert.equal(gateway?.port, 8080);
  assert.equal(gateway?.databaseUrl, undefined);
  // the gateway starts with the services and listens once they answer ready
  assert.equal(gateway?.awaitServicesMs, GATEWAY_AWAITS_SERVICES_MS);
  // the parent's environment is inherited, but no database URL leaks to another service
  assert.equal(plan.specs[0]?.env['PATH'], '/usr/bin');
  for (const spec of plan.specs) assert.equal(spec.env['CAROTENE_DATABASE_URL_ORDER_HISTORY'], undefined);
});

test('databases are listed per service: SQLite by default, PostgreSQL when its variable is set', () => {
  assert.equal(databaseEnvName('order-history'), 'CAROTENE_DATABASE_URL_ORDER_HISTORY');
  assert.deepEqual(plan.databases, [
    { service: 'users', where: join('/apps/shop/.carotene', 'db', 'users.sqlite') },
    { service: 'order-history', where: 'PostgreSQL from CAROTENE_DATABASE_URL_ORDER_HISTORY' },
  ]);
});

test('a wait for the services that is not a number of milliseconds is a typed configuration error', () => {
  const env = { ...plan.specs[2]!.env } as NodeJS.ProcessEnv;
  for (const bad of ['soon', '-5', '1.5']) {
    assert.throws(
      () => readProcessEnv({ ...env, CAROTENE_AWAIT_SERVICES_MS: bad }),
      (err: Error & { code?: string }) => err.code === 'INVALID_CONFIG' && err.message.includes(`got '${bad}'`),
    );
  }
  assert.equal(readProcessEnv({ ...env, CAROTENE_AWAIT_SERVICES_MS: '0' }).awaitServicesMs, 0);
});

test('the SQLite durability is read from CAROTENE_SQLITE_SYNCHRONOUS, and anything but normal or full is a typed configuration error', () => {
  const env = { ...plan.specs[0]!.env } as NodeJS.ProcessEnv;
  assert.equal(readProcessEnv(env).sqliteSynchronous, undefined);
  assert.equal(readProcessEnv({ ...env, CAROTENE_SQLITE_SYNCHRONOUS: 'full' }).sqliteSynchronous, 'full');
  for (const bad of ['FULL', 'off', '2']) {
    assert.throws(
      () => readProcessEnv({ ...env, CAROTENE_SQLITE_SYNCHRONOUS: bad }),
      (err: Error & { code?: string }) => err.code === 'INVALID_CONFIG' && err.message.includes(`got '${bad}'`),
    );
  }
});
