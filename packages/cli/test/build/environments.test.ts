import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { app } from '../../../carotene/src/declare/app.ts';
import { resolveEnvironment } from '../../src/build/environment.ts';
import { databaseEnv } from '../../src/build/manifests/service-workload.ts';
import { catalog, orders, payments } from './fixtures/services.ts';

describe('app environments', () => {
  it('rejects an unknown key and names its path', () => {
    assert.throws(() => app({ name: 'shop', services: [catalog], environments: { production: { gateway: { domian: 'x' } } } as never }), {
      message: "app 'shop': environments.production.gateway.domian: unknown key",
    });
    assert.throws(() => app({ name: 'shop', services: [catalog], environments: { prod: {} } as never }), {
      message: "app 'shop': environments.prod: unknown key",
    });
  });

  it('rejects a bad value with its path', () => {
    assert.throws(() => app({ name: 'shop', services: [catalog], environments: { staging: { replicas: 0 } } }), /environments\.staging\.replicas: /);
    assert.throws(
      () =>
        app({
          name: 'shop',
          services: [catalog],
          environments: { production: { resources: { requests: { cpu: 'lots', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } } },
        }),
      /environments\.production\.resources\.requests\.cpu: must be a Kubernetes quantity/,
    );
  });

  it('refuses settings for a service that is not part of the app', () => {
    assert.throws(() => app({ name: 'shop', services: [catalog], environments: { production: { services: { billing: { replicas: 2 } } } } }), {
      message: "app 'shop': environments.production.services names 'billing', which is not a service of the app",
    });
  });

  it('refuses more than one replica on SQLite, where each pod would have its own data', () => {
    const def = app({ name: 'shop', services: [catalog, orders, payments], environments: { development: { services: { orders: { replicas: 2 } } } } });
    assert.throws(() => resolveEnvironment(def, 'development'), {
      code: 'INVALID_CONFIG',
      message: "environments.development: service 'orders' has 2 replicas on SQLite; use one replica or database: { source: 'secret' } (PostgreSQL)",
    });
  });

  it('fills every environment from its defaults, and applies overrides per service', () => {
    const def = app({
      name: 'shop',
      services: [catalog, orders, payments],
      environments: {
        production: {
          services: { orders: { replicas: 5 } },
          gateway: { domain: 'api.shop.example' },
          events: { transport: 'nats', url: 'nats://jetstream:4222' },
        },
      },
    });
    const dev = resolveEnvironment(def, 'development');
    assert.equal(dev.services.catalog?.replicas, 1);
    assert.deepEqual(dev.database, { source: 'sqlite' });
    assert.deepEqual(dev.events, { transport: 'direct' });
    assert.equal(resolveEnvironment(def, 'staging').services.catalog?.replicas, 2);
    const prod = resolveEnvironment(def, 'production');
    assert.equal(prod.namespace, 'shop-production');
    assert.equal(prod.services.catalog?.replicas, 3);
    assert.deepEqual(prod.services.orders, { replicas: 5, maxReplicas: 10, resources: prod.services.catalog?.resources });
    assert.equal(prod.gateway.domain, 'api.shop.example');
    assert.deepEqual(prod.events, { transport: 'nats', url: 'nats://jetstream:4222' });
    assert.deepEqual(prod.database, { source: 'secret', secretName: 'shop-databases' });
  });

  it('hands a SQLite durability setting to the service processes, and refuses an unknown one', () => {
    const full = app({
      name: 'shop',
      services: [catalog, orders, payments],
      environments: { development: { database: { source: 'sqlite', synchronous: 'full' } } },
    });
    assert.deepEqual(databaseEnv(resolveEnvironment(full, 'development'), 'orders'), [{ name: 'CAROTENE_SQLITE_SYNCHRONOUS', value: 'full' }]);
    assert.deepEqual(databaseEnv(resolveEnvironment(app({ name: 'shop', services: [catalog, orders, payments] }), 'development'), 'orders'), []);
    assert.throws(
      () =>
        app({
          name: 'shop',
          services: [catalog, orders, payments],
          environments: { development: { database: { source: 'sqlite', synchronous: 'off' as 'full' } } },
        }),
      (err: Error) => err.message.includes('environments.development.database.synchronous') && err.message.includes('"normal"|"full"'),
    );
  });
});
