import type { PolicyLayer, ResilienceSettings } from 'carotene/model';

/** Everything that governs one integration call, every field resolved. */
export interface CallPolicy {
  readonly timeoutMs: number;
  readonly retry: { readonly maxAttempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  readonly breaker: {
    readonly mode: 'consecutive' | 'rate';
    readonly failures: number;
    readonly failureRate: number;
    readonly window: number;
    readonly minimumCalls: number;
    readonly halfOpenAfterMs: number;
  };
  readonly bulkhead: { readonly maxConcurrent: number; readonly maxQueue: number };
}

/**
 * The built-in policy of every integration call (docs/resilience.md has the table): 5 s per
 * attempt, 3 attempts with full-jitter backoff from 100 ms up to 2 s (idempotent calls only),
 * a breaker that opens after 5 failures in a row and probes again after 10 s, and 64 calls
 * in flight with 256 waiting per dependency.
 */
export const DEFAULT_CALL_POLICY: CallPolicy = {
  timeoutMs: 5_000,
  retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 2_000 },
  breaker: { mode: 'consecutive', failures: 5, failureRate: 0.5, window: 20, minimumCalls: 10, halfOpenAfterMs: 10_000 },
  bulkhead: { maxConcurrent: 64, maxQueue: 256 },
};

/**
 * The policy of calls to `callee` (and its function `fn`): the function's layer over the
 * integration's over `defaults` over {@link DEFAULT_CALL_POLICY}, field by field.
 *
 * ```ts
 * resolveCallPolicy({ integrations: { catalog: { timeoutMs: 800 } } }, 'catalog', 'getProducts').timeoutMs  // 800
 * ```
 */
export function resolveCallPolicy(settings: ResilienceSettings | undefined, callee: string, fn?: string): CallPolicy {
  const integration = settings?.integrations?.[callee];
  const layers = [settings?.defaults, integration, fn === undefined ? undefined : integration?.functions?.[fn]];
  return layers.reduce<CallPolicy>((policy, layer) => (layer ? apply(policy, layer) : policy), DEFAULT_CALL_POLICY);
}

/**
 * True when the function's own layer sets a breaker or bulkhead: such a function gets its
 * own instances instead of sharing the integration's.
 */
export function hasOwnLimits(settings: ResilienceSettings | undefined, callee: string, fn: string): boolean {
  const own = settings?.integrations?.[callee]?.functions?.[fn];
  return own?.breaker !== undefined || own?.bulkhead !== undefined;
}

function apply(policy: CallPolicy, layer: PolicyLayer): CallPolicy {
  return {
    timeoutMs: layer.timeoutMs ?? policy.timeoutMs,
    retry: { ...policy.retry, ...defined(layer.retry) },
    breaker: { ...policy.breaker, ...defined(layer.breaker) },
    bulkhead: { ...policy.bulkhead, ...defined(layer.bulkhead) },
  };
}

/** Drops keys whose value is undefined, so they do not erase the layer below. */
function defined<T extends object>(value: T | undefined): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
