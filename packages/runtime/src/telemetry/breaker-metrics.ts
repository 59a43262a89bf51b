import { Counter } from 'prom-client';
import { breakerStates, onBreakerStateChange, type BreakerState } from '../resilience/breaker-hooks.ts';
import { breakerState, metricsRegistry } from './metrics.ts';

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

const transitions = new Counter({
  name: 'carotene_breaker_transitions_total',
  help: 'Circuit breaker state changes, by caller, dependency and new state',
  labelNames: ['service', 'target', 'to'] as const,
  registers: [metricsRegistry],
});

let watching = false;

/**
 * Exports the circuit breakers of this process: their current state
 * (`carotene_breaker_state`, read at scrape time) and a counter of their changes. Once per
 * process; later calls do nothing.
 */
export function watchBreakers(): void {
  if (watching) return;
  watching = true;
  onBreakerStateChange((c) => transitions.inc({ service: c.caller, target: c.dependency, to: c.to }));
  breakerState.add(async () => breakerStates().map((b) => ({ labels: { service: b.caller, target: b.dependency }, value: STATE_VALUE[b.state] })));
}
