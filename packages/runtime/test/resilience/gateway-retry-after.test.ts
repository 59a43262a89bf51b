import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { platformError } from '../../../carotene/src/errors.ts';
import { createGateway } from '../../../gateway/src/index.ts';
import { captureLogger, FakeTransport, testApp } from '../../../gateway/test/fixtures.ts';

function gatewayAnswering(err: Error) {
  const transport = new FakeTransport({
    'things.listThings': () => {
      throw err;
    },
  });
  return createGateway({ app: testApp({}), transport, logger: captureLogger().logger }).server;
}

describe('gateway: failing fast behind it', () => {
  it('answers 503 with Retry-After in whole seconds when a breaker is open, without naming internals', async () => {
    const open = platformError('UNAVAILABLE', 'catalog is failing: its circuit breaker is open; retry in 8 s', {
      service: 'catalog',
      details: { dependency: 'catalog', state: 'open', retryAfterMs: 7_250, reason: 'breaker-open' },
    });
    const res = await gatewayAnswering(open).inject({ method: 'GET', url: '/api/things' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '8');
    assert.equal(res.json().error.code, 'UNAVAILABLE');
    assert.equal(res.json().error.details, undefined, 'breaker details stay inside');
  });

  it('a plain UNAVAILABLE gets no Retry-After', async () => {
    const res = await gatewayAnswering(platformError('UNAVAILABLE', 'refused', { service: 'catalog' })).inject({ method: 'GET', url: '/api/things' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], undefined);
  });
});
