/** The state of one breaker, as metrics and logs name it. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** One breaker's state change: which caller's breaker, for which dependency. */
export interface BreakerStateChange {
  readonly caller: string;
  /** `catalog`, or `catalog.getProducts` for a function with a breaker of its own. */
  readonly dependency: string;
  readonly from: BreakerState;
  readonly to: BreakerState;
  readonly at: number;
}

type Listener = (change: BreakerStateChange) => void;

const listeners = new Set<Listener>();
const states = new Map<string, { caller: string; dependency: string; state: BreakerState; since: number }>();

/**
 * Calls `listener` on every breaker state change in this process; returns the unsubscribe.
 * For metrics: count changes and export the current state.
 *
 * ```ts
 * const off = onBreakerStateChange((c) => changes.inc({ dependency: c.dependency, to: c.to }));
 * ```
 */
export function onBreakerStateChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Every breaker of this process and its current state, e.g. for a gauge.
 *
 * ```ts
 * for (const b of breakerStates()) gauge.set({ caller: b.caller, dependency: b.dependency }, b.state === 'open' ? 1 : 0);
 * ```
 */
export function breakerStates(): Array<{ caller: string; dependency: string; state: BreakerState; since: number }> {
  return [...states.values()].map((s) => ({ ...s }));
}

/** Records a breaker (state `closed`) as soon as it exists, so a snapshot lists it. */
export function registerBreaker(caller: string, dependency: string): void {
  states.set(`${caller}>${dependency}`, { caller, dependency, state: 'closed', since: Date.now() });
}

/** Records a state change and tells every listener; a failing listener does not stop the others. */
export function publishBreakerState(change: BreakerStateChange): void {
  states.set(`${change.caller}>${change.dependency}`, { caller: change.caller, dependency: change.dependency, state: change.to, since: change.at });
  for (const listener of listeners) {
    try {
      listener(change);
    } catch {
      // metrics must never break a call
    }
  }
}
