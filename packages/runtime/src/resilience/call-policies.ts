import type { ResilienceSettings } from 'carotene/model';
import { platformError } from 'carotene/model';
import { Bulkhead } from './bulkhead.ts';
import { hasOwnLimits, resolveCallPolicy, type CallPolicy } from './call-policy.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { countsAsFailure, isRetryable } from './failure-kind.ts';
import { withRetries } from './retry.ts';

/** Where retries are logged (a pino logger fits). */
export interface PolicyLog {
  info(fields: object, message: string): void;
}

/** One integration call, as the policies see it. */
export interface PolicedCall {
  readonly caller: string;
  readonly callee: string;
  readonly fn: string;
  /** Declared `idempotent` in the contract, or carrying an idempotency key: only then is it retried. */
  readonly idempotent: boolean;
  /** The caller's deadline (epoch ms); no attempt and no retry goes past it. */
  readonly deadline: number;
  /** Per-call timeout of one attempt, when the caller passed one; else the policy's. */
  readonly timeoutMs?: number | undefined;
}

interface Limits {
  readonly breaker: CircuitBreaker;
  readonly bulkhead: Bulkhead;
}

/**
 * The timeouts, retries, breakers and bulkheads of one process's integration calls.
 * Breakers and bulkheads are kept per (caller, callee), or per (caller, callee, function) for
 * a function whose config gives it limits of its own; policies resolve once per function.
 *
 * The layers, outermost first: retry (idempotent calls only, within the caller's deadline) →
 * circuit breaker → bulkhead → one attempt with its own timeout.
 *
 * ```ts
 * const policies = new CallPolicies({ integrations: { catalog: { timeoutMs: 800 } } });
 * await policies.call({ caller: 'orders', callee: 'catalog', fn: 'getProducts', idempotent: true, deadline },
 *                     (attemptDeadline) => transport.call('catalog', 'getProducts', input, { ...meta, deadline: attemptDeadline }));
 * ```
 */
export class CallPolicies {
  readonly #settings: ResilienceSettings | undefined;
  readonly #log: PolicyLog | undefined;
  readonly #policies = new Map<string, CallPolicy>();
  readonly #limits = new Map<string, Limits>();

  constructor(settings?: ResilienceSettings, options: { log?: PolicyLog } = {}) {
    this.#settings = settings;
    this.#log = options.log;
  }

  /** The resolved policy of calls to `callee.fn`. */
  policy(callee: string, fn: string): CallPolicy {
    const key = `${callee}.${fn}`;
    let policy = this.#policies.get(key);
    if (!policy) {
      policy = resolveCallPolicy(this.#settings, callee, fn);
      this.#policies.set(key, policy);
    }
    return policy;
  }

  /** Runs `attempt` (given the attempt's deadline) under the call's policy. */
  async call<T>(call: PolicedCall, attempt: (attemptDeadline: number) => Promise<T>): Promise<T> {
    const policy = this.policy(call.callee, call.fn);
    const limits = this.#limitsFor(call, policy);
    const timeoutMs = call.timeoutMs ?? policy.timeoutMs;
    // the attempt's clock starts when it leaves the bulkhead's queue
    const once = (): Promise<T> => limits.breaker.execute(() => limits.bulkhead.execute(() => attempt(Math.min(call.deadline, Date.now() + timeoutMs))));
    // the caller ran out of time before asking: no failure of the callee's, so not the breaker's business
    if (call.deadline <= Date.now()) {
      throw platformError('DEADLINE_EXCEEDED', `no time left to call ${call.callee}.${call.fn}`, {
        service: call.callee,
        details: { reason: 'caller-deadline' },
      });
    }
    if (!call.idempotent || policy.retry.maxAttempts <= 1) return once();
    return withRetries(once, {
      policy: policy.retry,
      deadline: call.deadline,
      retryable: (err) => isRetryable(err, call.callee),
      onRetry: ({ attempt: n, delayMs, error }) =>
        this.#log?.info(
          { event: 'retry', caller: call.caller, dependency: `${call.callee}.${call.fn}`, attempt: n, delayMs, code: (error as { code?: string }).code },
          'retrying a failed call',
        ),
    });
  }

  #limitsFor(call: PolicedCall, policy: CallPolicy): Limits {
    const own = hasOwnLimits(this.#settings, call.callee, call.fn);
    const dependency = own ? `${call.callee}.${call.fn}` : call.callee;
    const key = `${call.caller}>${dependency}`;
    let limits = this.#limits.get(key);
    if (!limits) {
      // a shared breaker takes the integration's settings, not those of whichever function came first
      const governing = own ? policy : resolveCallPolicy(this.#settings, call.callee);
      limits = {
        breaker: new CircuitBreaker({
          caller: call.caller,
          dependency,
          service: call.callee,
          policy: governing.breaker,
          isFailure: (err) => countsAsFailure(err, call.callee),
        }),
        bulkhead: new Bulkhead(dependency, call.callee, governing.bulkhead),
      };
      this.#limits.set(key, limits);
    }
    return limits;
  }
}

let installed: CallPolicies | undefined;

/**
 * Makes `policies` govern every integration call of this process (`ctx.call`); the service
 * and group entry points install them at start. Without it (in-memory test harnesses), calls
 * get only the default timeout.
 */
export function installCallPolicies(policies: CallPolicies | undefined): void {
  installed = policies;
}

/** The policies installed in this process, if any. */
export function installedCallPolicies(): CallPolicies | undefined {
  return installed;
}
