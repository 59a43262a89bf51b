import type { FaultRule } from 'carotene/model';
import { platformError, type CaroteneError } from 'carotene/model';

/** What to do to one incoming call; the callee's server applies it. */
export interface FaultPlan {
  /** Wait this long before the handler runs. */
  readonly latencyMs: number;
  /** Fail or drop before the handler runs (`request`) or after it ran (`response`). */
  readonly failure?: { readonly kind: 'error' | 'drop'; readonly phase: 'request' | 'response'; readonly code: FaultCode } | undefined;
}

type FaultCode = 'UNAVAILABLE' | 'INTERNAL' | 'DEADLINE_EXCEEDED';

/**
 * Decides, per incoming call, which faults apply: rules from the app config plus those
 * `carrot faults add` writes (replaced whenever that file changes). Faults are injected in
 * the callee, so latency and dropped connections look to every caller exactly like a slow or
 * crashing service. Each rule fires with its `probability`, at most `limit` times.
 *
 * ```ts
 * const faults = new FaultInjector([{ service: 'catalog', kind: 'latency', ms: 2_000 }]);
 * faults.plan('catalog', 'getProducts');  // { latencyMs: 2000 }
 * ```
 */
export class FaultInjector {
  readonly #configured: readonly FaultRule[];
  #dynamic: readonly FaultRule[] = [];
  // by content: a rule keeps its count when the faults file is rewritten with it still in
  readonly #fired = new Map<string, number>();
  readonly #random: () => number;

  constructor(configured: readonly FaultRule[] = [], random: () => number = Math.random) {
    this.#configured = configured;
    this.#random = random;
  }

  /** Replaces the rules added at run time (the faults file). */
  setDynamic(rules: readonly FaultRule[]): void {
    this.#dynamic = rules;
  }

  /** Every rule in force. */
  get rules(): readonly FaultRule[] {
    return [...this.#configured, ...this.#dynamic];
  }

  /** The faults of one call into `service.fn`, or undefined when none fires (the usual case, kept cheap). */
  plan(service: string, fn: string): FaultPlan | undefined {
    if (this.#configured.length === 0 && this.#dynamic.length === 0) return undefined;
    let latencyMs = 0;
    let failure: FaultPlan['failure'];
    for (const rule of this.rules) {
      if (rule.service !== service || (rule.function !== undefined && rule.function !== fn)) continue;
      if (rule.kind !== 'latency' && failure) continue;
      const key = JSON.stringify(rule);
      const fired = this.#fired.get(key) ?? 0;
      if (rule.limit !== undefined && fired >= rule.limit) continue;
      if (this.#random() >= (rule.probability ?? 1)) continue;
      this.#fired.set(key, fired + 1);
      if (rule.kind === 'latency') latencyMs += rule.ms;
      else failure = { kind: rule.kind, phase: rule.phase ?? 'request', code: rule.kind === 'error' ? (rule.code ?? 'UNAVAILABLE') : 'UNAVAILABLE' };
    }
    return latencyMs === 0 && !failure ? undefined : { latencyMs, failure };
  }
}

/** The error an injected `error` fault raises in the callee. */
export function injectedError(service: string, fn: string, code: FaultCode): CaroteneError {
  return platformError(code, `fault injected into ${service}.${fn} (carrot faults / environments.*.faults)`, { service });
}

let installed: FaultInjector | undefined;

/** Makes `faults` apply to the calls this process serves (the service and group entry points do). */
export function installFaults(faults: FaultInjector | undefined): void {
  installed = faults;
}

/** The faults of this process, if any were installed. */
export function installedFaults(): FaultInjector | undefined {
  return installed;
}

/**
 * Runs `handler` with `plan` applied around it: the latency first, then a `request`-phase
 * failure instead of the handler, or a `response`-phase failure after it (the work is done,
 * the answer lost). `drop` cuts the caller off the way the transport can (a socket
 * destroyed, or UNAVAILABLE in process) and must throw.
 */
export async function withFaults<T>(plan: FaultPlan | undefined, service: string, fn: string, drop: () => never, handler: () => Promise<T>): Promise<T> {
  if (!plan) return handler();
  if (plan.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, plan.latencyMs));
  const fail = (failure: NonNullable<FaultPlan['failure']>): never => {
    if (failure.kind === 'drop') return drop();
    throw injectedError(service, fn, failure.code);
  };
  if (plan.failure?.phase === 'request') fail(plan.failure);
  const out = await handler();
  if (plan.failure?.phase === 'response') fail(plan.failure);
  return out;
}
