import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { app, type AppDef } from '../../../carotene/src/declare/app.ts';
import { planDev } from '../../src/cli/dev-plan.ts';
import { applyGroups, GROUP_MAIN, resolveGroups } from '../../src/cli/group-plan.ts';
import { readGroupEnv } from '../../../runtime/src/service/group-env.ts';
import { readProcessEnv } from '../../../runtime/src/service/process-env.ts';
import { outsider, shopfront, stock } from '../../../runtime/test/fixtures/colocated.ts';

// resolveGroups and planDev read only names (and the development environment) from the app
const shopWith = (development?: object) =>
  ({
    kind: 'app',
    name: 'shop',
    services: ['users', 'catalog', 'orders', 'payments'].map((name) => ({ kind: 'service', name })),
    gateway: {},
    config: {},
    environments: development ? { development } : {},
  }) as unknown as AppDef;
const shop = shopWith();

describe('resolveGroups', () => {
  it('is one process per service unless asked', () => {
    assert.deepEqual(resolveGroups(shop, {}), []);
  });

  it('makes one group of every service with --monolith', () => {
    assert.deepEqual(resolveGroups(shop, { monolith: true }), [{ name: 'monolith', services: ['users', 'catalog', 'orders', 'payments'] }]);
  });

  it('reads --group flags, a group may take the name of one of its members', () => {
    assert.deepEqual(resolveGroups(shop, { groupFlags: ['core=users, catalog', 'orders=orders,payments'] }), [
      { name: 'core', services: ['users', 'catalog'] },
      { name: 'orders', services: ['orders', 'payments'] },
    ]);
  });

  it("falls back on the app's development environment, and flags win over it", () => {
    assert.deepEqual(
      resolveGroups(shopWith({ monolith: true }), {}).map((g) => g.name),
      ['monolith'],
    );
    assert.deepEqual(resolveGroups(shopWith({ groups: { checkout: ['orders', 'payments'] } }), {}), [{ name: 'checkout', services: ['orders', 'payments'] }]);
    assert.deepEqual(resolveGroups(shopWith({ monolith: true }), { separate: true }), []);
    assert.deepEqual(resolveGroups(shopWith({ monolith: true }), { groupFlags: ['a=users'] }), [{ name: 'a', services: ['users'] }]);
    assert.deepEqual(resolveGroups(shopWith({ monolith: true }), { environment: 'staging' }), [], "another environment's shape");
    assert.throws(() => resolveGroups(shop, { environment: 'prod' }), /not one of development, staging, production/);
  });

  it('takes monolith and groups from the typed development environment of app()', () => {
    const grouped = app({ name: 'c', services: [stock, shopfront, outsider], environments: { development: { groups: { front: ['shopfront', 'stock'] } } } });
    assert.deepEqual(resolveGroups(grouped, {}), [{ name: 'front', services: ['shopfront', 'stock'] }]);
    const whole = app({ name: 'c', services: [stock, shopfront, outsider], environments: { development: { monolith: true } } });
    assert.deepEqual(resolveGroups(whole, {}), [{ name: 'monolith', services: ['stock', 'shopfront', 'outsider'] }]);
    assert.throws(() => app({ name: 'c', services: [stock], environments: { development: { monolith: 'yes' as unknown as boolean } } }), /monolith/);
  });

  it('refuses groups that cannot be run, saying why', () => {
    const refuse = (flags: string[], pattern: RegExp) => assert.throws(() => resolveGroups(shop, { groupFlags: flags }), pattern);
    refuse(['core=users,ghost'], /'ghost', which is not a service of app 'shop' \(it has: users, catalog, orders, payments\)/);
    refuse(['a=users', 'b=users,orders'], /'users' is in both group 'a' and group 'b'/);
    refuse(['users=orders'], /name of service 'users', which runs in another process/);
    refuse(['gateway=users'], /reserved for the gateway/);
    refuse(['core'], /<name>=<service>/);
    assert.throws(() => resolveGroups(shop, { monolith: true, groupFlags: ['a=users'] }), /choose one of/);
  });
});

describe('applyGroups', () => {
  const plan = planDev({
    app: shop,
    appFile: '/apps/shop/app.ts',
    dataDir: '/apps/shop/.carotene',
    gateway: { host: '127.0.0.1', port: 8080 },
    servicePorts: [41001, 41002, 41003, 41004],
    env: { PATH: '/usr/bin', CAROTENE_DATABASE_URL_PAYMENTS: 'postgres://db/payments' },
  });
  const mixed = applyGroups(plan, [{ name: 'checkout', services: ['orders', 'payments'] }]);

  it('replaces the members by one process where the first member was, and keeps the registry', () => {
    assert.deepEqual(
      mixed.specs.map((s) => s.name),
      ['users', 'catalog', 'checkout', 'gateway'],
    );
    assert.deepEqual(mixed.registry, plan.registry, 'every service keeps its own address');
    assert.deepEqual(mixed.databases, plan.databases, 'and its own database');
  });

  it('starts the group entry with each member, its port and its own database URL', () => {
    const checkout = mixed.specs.find((s) => s.name === 'checkout')!;
    assert.equal(checkout.args[2], GROUP_MAIN);
    assert.match(GROUP_MAIN, /\/packages\/runtime\/src\/service\/group-main\.ts$/);
    const env = checkout.env as NodeJS.ProcessEnv;
    assert.equal(readProcessEnv(env).service, 'checkout');
    assert.equal(readProcessEnv(env).databaseUrl, undefined, "no member's URL is the group's");
    assert.deepEqual(readGroupEnv(env), [
      { service: 'orders', port: 41003, databaseUrl: undefined },
      { service: 'payments', port: 41004, databaseUrl: 'postgres://db/payments' },
    ]);
    assert.equal(checkout.readyUrl, plan.specs.find((s) => s.name === 'payments')!.readyUrl, 'ready when its last member is');
    assert.equal(checkout.logFile, '/apps/shop/.carotene/logs/checkout.log');
  });

  it('leaves the plan as it is without groups', () => {
    assert.equal(applyGroups(plan, []), plan);
  });
});

describe('readGroupEnv', () => {
  it('is undefined for a one-service process and refuses a malformed list', () => {
    assert.equal(readGroupEnv({}), undefined);
    assert.throws(() => readGroupEnv({ CAROTENE_SERVICES: 'users:99999' }), /<service>:<port>/);
    assert.throws(() => readGroupEnv({ CAROTENE_SERVICES: 'users' }), /<service>:<port>/);
  });
});
