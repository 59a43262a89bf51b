import { BrokenCircuitError, type CircuitBreakerPolicy, CircuitState, ConsecutiveBreaker, CountBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import { platformError } from 'carotene/model';
import { publishBreakerState, registerBreaker, type BreakerState } from './breaker-hooks.ts';
import type { CallPolicy } from './call-policy.ts';

export interface CircuitBreakerOptions {
  /** The calling service, whose breaker this is. */
  readonly caller: string;
  /** What it protects: `catalog` or `catalog.getProducts`. */
  readonly dependency: string;
  /** The service named in the fail-fast error. */
  readonly service: string;
  readonly policy: CallPolicy['breaker'];
  /** Which errors count against the breaker; the rest count as successes. */
  readonly isFailure: (err: unknown) => boolean;
}

/**
 * A circuit breaker on one dependency (cockatiel's, in consecutive-failure or failure-rate
 * mode). While open it fails in microseconds with UNAVAILABLE naming the dependency, the
 * state and when to retry; after `halfOpenAfterMs` one probe call goes through (others keep
 * failing fast): its success closes the breaker, its failure opens it again. Every change
 * reaches `onBreakerStateChange` listeners.
 *
 * ```ts
 * const breaker = new CircuitBreaker({ caller: 'orders', dependency: 'catalog', service: 'catalog', policy, isFailure });
 * await breaker.execute(() => transport.call('catalog', 'getProducts', input, meta));
 * ```
 */
export class CircuitBreaker {
  readonly #options: CircuitBreakerOptions;
  readonly #policy: CircuitBreakerPolicy;
  #state: BreakerState = 'closed';
  #openedAt = 0;

  constructor(options: CircuitBreakerOptions) {
    this.#options = options;
    const { policy } = options;
    const breaker =
      policy.mode === 'consecutive'
        ? new ConsecutiveBreaker(policy.failures)
        : new CountBreaker({ threshold: policy.failureRate, size: policy.window, minimumNumberOfCalls: Math.min(policy.minimumCalls, policy.window) });
    this.#policy = circuitBreaker(
      handleWhen((err) => options.isFailure(err)),
      { halfOpenAfter: policy.halfOpenAfterMs, breaker },
    );
    registerBreaker(options.caller, options.dependency);
    this.#policy.onStateChange((next) => this.#changed(next));
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** Runs `fn` through the breaker; rejects at once while the breaker is open or probing. */
  async execute<T>(fn: () => Promise<T>): Promise<T> {
    // a probe is running: the others do not queue behind it (cockatiel would make them wait)
    if (this.#state === 'half-open') throw this.#failFast('half-open');
    try {
      return await this.#policy.execute(fn);
    } catch (err) {
      if (err instanceof BrokenCircuitError) throw this.#failFast('open');
      throw err;
    }
  }

  #failFast(state: 'open' | 'half-open'): Error {
    const { dependency, service, policy } = this.#options;
    const retryAfterMs = state === 'open' ? Math.max(0, policy.halfOpenAfterMs - (Date.now() - this.#openedAt)) : Math.min(policy.halfOpenAfterMs, 1_000);
    return platformError('UNAVAILABLE', `${dependency} is failing: its circuit breaker is ${state}; retry in ${Math.ceil(retryAfterMs / 1000)} s`, {
      service,
      details: { dependency, state, retryAfterMs, reason: state === 'open' ? 'breaker-open' : 'breaker-half-open' },
    });
  }

  #changed(next: CircuitState): void {
    const to: BreakerState = next === CircuitState.Closed ? 'closed' : next === CircuitState.HalfOpen ? 'half-open' : 'open';
    if (to === this.#state) return;
    const from = this.#state;
    const at = Date.now();
    this.#state = to;
    if (to === 'open') this.#openedAt = at;
    publishBreakerState({ caller: this.#options.caller, dependency: this.#options.dependency, from, to, at });
  }
}
