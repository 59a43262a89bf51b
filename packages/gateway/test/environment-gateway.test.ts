// The gateway's options in one environment: CAROTENE_GATEWAY (the ConfigMap's) over the app's,
// else the app's own environments[CAROTENE_ENVIRONMENT].gateway.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { app } from '../../carotene/src/index.ts';
import { withEnvironmentGateway } from '../src/environment-gateway.ts';
import { things, users, authOptions } from './fixtures.ts';

const base = app({
  name: 'test-shop',
  services: [things, users],
  gateway: {
    auth: authOptions,
    timeoutMs: 10_000,
    cors: { origins: ['http://localhost:5173'] },
    limits: { maxUrlLength: 4_000, headersTimeoutMs: 5_000 },
    rateLimit: { default: 'off', routes: { 'GET /api/things': { capacity: 5, refillPerSecond: 1 } } },
  },
  environments: {
    staging: { gateway: { domain: 'staging.test', timeoutMs: 2_000, rateLimit: { redis: { url: 'redis://redis:6379' } } } },
  },
});

describe('the gateway of one environment', () => {
  it('applies CAROTENE_GATEWAY over the app: scalars and cors replaced, limits and rate-limit routes merged', () => {
    const settings = {
      timeoutMs: 300,
      cors: { origins: ['https://prod.example'] },
      limits: { maxUrlLength: 2_000 },
      rateLimit: {
        routes: { 'GET /api/greeting': { capacity: 1, refillPerSecond: 1 } },
        redis: { url: 'redis://redis:6379', prefix: 'p:' },
        perReplica: false,
      },
    };
    const { gateway } = withEnvironmentGateway(base, { CAROTENE_GATEWAY: JSON.stringify(settings) });
    assert.equal(gateway.timeoutMs, 300);
    assert.deepEqual(gateway.cors, { origins: ['https://prod.example'] });
    assert.deepEqual(gateway.limits, { maxUrlLength: 2_000, headersTimeoutMs: 5_000 });
    assert.deepEqual(gateway.rateLimit, {
      default: 'off',
      routes: { 'GET /api/things': { capacity: 5, refillPerSecond: 1 }, 'GET /api/greeting': { capacity: 1, refillPerSecond: 1 } },
      redis: { url: 'redis://redis:6379', prefix: 'p:' },
    });
    assert.equal(gateway.auth, authOptions, 'what the environment does not set stays the app’s');
  });

  it("without CAROTENE_GATEWAY, reads the app's own settings of CAROTENE_ENVIRONMENT (development by default)", () => {
    const staging = withEnvironmentGateway(base, { CAROTENE_ENVIRONMENT: 'staging' }).gateway;
    assert.equal(staging.timeoutMs, 2_000);
    assert.deepEqual(staging.rateLimit?.redis, { url: 'redis://redis:6379' });
    assert.equal(withEnvironmentGateway(base, {}), base, 'development sets nothing: the app as it is');
  });

  it('refuses settings it cannot read, naming the key', () => {
    assert.throws(() => withEnvironmentGateway(base, { CAROTENE_GATEWAY: '{oops' }), { code: 'INVALID_CONFIG', message: /^CAROTENE_GATEWAY is not JSON/ });
    assert.throws(() => withEnvironmentGateway(base, { CAROTENE_GATEWAY: '{"timeout":5}' }), {
      code: 'INVALID_CONFIG',
      message: 'CAROTENE_GATEWAY: timeout: unknown key',
    });
    assert.throws(() => withEnvironmentGateway(base, { CAROTENE_GATEWAY: '{"rateLimit":{"default":{"capacity":0,"refillPerSecond":1}}}' }), {
      code: 'INVALID_CONFIG',
      message: /^CAROTENE_GATEWAY: rateLimit\.default/,
    });
    assert.throws(() => withEnvironmentGateway(base, { CAROTENE_ENVIRONMENT: 'prod' }), {
      code: 'INVALID_CONFIG',
      message: /CAROTENE_ENVIRONMENT must be one of/,
    });
  });
});
