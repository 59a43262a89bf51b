// Circuit breakers on /metrics: the state of each, and a counter of its changes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { publishBreakerState, registerBreaker } from '../../src/resilience/breaker-hooks.ts';
import { watchBreakers } from '../../src/telemetry/breaker-metrics.ts';
import { renderMetrics } from '../../src/telemetry/metrics.ts';

function sample(text: string, prefix: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('breaker metrics', () => {
  it('shows each breaker closed (0), half-open (1) or open (2), and counts the changes', async () => {
    watchBreakers();
    watchBreakers(); // twice: still one listener
    registerBreaker('orders', 'catalog');
    const state = 'carotene_breaker_state{service="orders",target="catalog"}';
    const opened = 'carotene_breaker_transitions_total{service="orders",target="catalog",to="open"}';
    assert.equal(sample(await renderMetrics(), state), 0);
    publishBreakerState({ caller: 'orders', dependency: 'catalog', from: 'closed', to: 'open', at: Date.now() });
    let text = await renderMetrics();
    assert.equal(sample(text, state), 2);
    assert.equal(sample(text, opened), 1);
    publishBreakerState({ caller: 'orders', dependency: 'catalog', from: 'open', to: 'half-open', at: Date.now() });
    text = await renderMetrics();
    assert.equal(sample(text, state), 1);
    assert.equal(sample(text, 'carotene_breaker_transitions_total{service="orders",target="catalog",to="half-open"}'), 1);
    assert.equal(sample(text, opened), 1);
  });
});
