import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CaroteneError, isCaroteneError, platformError } from '../../../carotene/src/errors.ts';
import { breakerStates, onBreakerStateChange, type BreakerStateChange } from '../../src/resilience/breaker-hooks.ts';
import { CallPolicies } from '../../src/resilience/call-policies.ts';
import { DEFAULT_CALL_POLICY, resolveCallPolicy } from '../../src/resilience/call-policy.ts';
import { countsAsFailure, isRetryable } from '../../src/resilience/failure-kind.ts';
import { withRetries } from '../../src/resilience/retry.ts';
import { parseEnvironments } from '../../../carotene/src/declare/environments.ts';

const unavailable = (service = 'catalog') => platformError('UNAVAILABLE', `${service} is unreachable (ECONNREFUSED)`, { service });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let callers = 0;
/** A fresh caller name per test: breakers are per (caller, callee) and the hooks are process-wide. */
const caller = () => `caller-${++callers}`;

describe('call policy settings', () => {
  it('resolves function over integration over defaults over built-ins, field by field', () => {
    const settings = {
      defaults: { timeoutMs: 2_000, retry: { maxAttempts: 2 } },
      integrations: { catalog: { breaker: { failures: 3 }, functions: { getProducts: { timeoutMs: 300, retry: { baseDelayMs: 5 } } } } },
    };
    const p = resolveCallPolicy(settings, 'catalog', 'getProducts');
    assert.equal(p.timeoutMs, 300);
    assert.deepEqual(p.retry, { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: DEFAULT_CALL_POLICY.retry.maxDelayMs });
    assert.equal(p.breaker.failures, 3);
    assert.equal(p.breaker.halfOpenAfterMs, DEFAULT_CALL_POLICY.breaker.halfOpenAfterMs);
    assert.equal(resolveCallPolicy(settings, 'payments', 'charge').timeoutMs, 2_000);
    assert.deepEqual(resolveCallPolicy(undefined, 'x', 'y'), DEFAULT_CALL_POLICY);
  });

  it('names unknown keys by their path', () => {
    assert.throws(
      () => parseEnvironments({ development: { resilience: { integrations: { catalog: { functions: { getProducts: { timeout: 5 } } } } } } }, "app 'shop'"),
      /environments\.development\.resilience\.integrations\.catalog\.functions\.getProducts\.timeout: unknown key/,
    );
    assert.throws(
      () => parseEnvironments({ staging: { faults: [{ service: 'catalog', kind: 'latency' }] } }, "app 'shop'"),
      /environments\.staging\.faults\.0\.ms/,
    );
  });
});

describe('which failures count', () => {
  it('counts transport failures of the callee, never domain errors, bad input or failures passed on from further down', () => {
    assert.equal(countsAsFailure(unavailable(), 'catalog'), true);
    assert.equal(countsAsFailure(platformError('DEADLINE_EXCEEDED', 'late', { service: 'catalog' }), 'catalog'), true);
    assert.equal(countsAsFailure(platformError('INTERNAL', 'bug', { service: 'catalog' }), 'catalog'), true);
    assert.equal(countsAsFailure(new CaroteneError('OUT_OF_STOCK', 'none', { status: 409, domain: true, service: 'catalog' }), 'catalog'), false);
    assert.equal(countsAsFailure(platformError('INVALID_INPUT', 'bad', { service: 'catalog' }), 'catalog'), false);
    assert.equal(countsAsFailure(unavailable('payments'), 'orders'), false);
    assert.equal(isRetryable(platformError('INTERNAL', 'bug', { service: 'catalog' }), 'catalog'), false);
    assert.equal(isRetryable(unavailable(), 'catalog'), true);
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, then fails fast with the dependency, state and retry time', async () => {
    const me = caller();
    const changes: BreakerStateChange[] = [];
    const off = onBreakerStateChange((c) => c.caller === me && changes.push(c));
    const policies = new CallPolicies({ integrations: { catalog: { breaker: { failures: 3, halfOpenAfterMs: 60_000 }, retry: { maxAttempts: 1 } } } });
    let sent = 0;
    const call = () =>
      policies.call({ caller: me, callee: 'catalog', fn: 'getProducts', idempotent: true, deadline: Date.now() + 5_000 }, async () => {
        sent += 1;
        throw unavailable();
      });
    for (let i = 0; i < 3; i += 1) await assert.rejects(call(), (e) => isCaroteneError(e, 'UNAVAILABLE') && /ECONNREFUSED/.test(e.message));
    const started = performance.now();
    const err = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    const took = performance.now() - started;
    off();
    assert.equal(sent, 3, 'the fourth call never reached the transport');
    assert.ok(isCaroteneError(err, 'UNAVAILABLE'));
    assert.equal(err.service, 'catalog');
    const details = err.details as { dependency: string; state: string; retryAfterMs: number };
    assert.equal(details.dependency, 'catalog');
    assert.equal(details.state, 'open');
    assert.ok(details.retryAfterMs > 55_000 && details.retryAfterMs <= 60_000, String(details.retryAfterMs));
    assert.ok(took < 5, `failed fast in ${took.toFixed(3)} ms`);
    assert.deepEqual(
      changes.map((c) => `${c.from}>${c.to}`),
      ['closed>open'],
    );
    assert.equal(breakerStates().find((b) => b.caller === me)?.state, 'open');
  });

  it('half-opens after the pause: one probe goes through while the others fail fast; success closes it', async () => {
    const me = caller();
    const changes: string[] = [];
    const off = onBreakerStateChange((c) => c.caller === me && changes.push(c.to));
    const policies = new CallPolicies({ integrations: { catalog: { breaker: { failures: 1, halfOpenAfterMs: 50 } } } });
    const call = (impl: () => Promise<string>) =>
      policies.call({ caller: me, callee: 'catalog', fn: 'f', idempotent: false, deadline: Date.now() + 5_000 }, impl);
    await assert.rejects(call(async () => Promise.reject(unavailable())));
    await sleep(70);
    let release: (v: string) => void = () => {};
    const probe = call(() => new Promise<string>((r) => (release = r)));
    await assert.rejects(
      call(async () => 'not sent'),
      (e) => isCaroteneError(e) && (e.details as { state: string }).state === 'half-open',
    );
    release('ok');
    assert.equal(await probe, 'ok');
    assert.equal(await call(async () => 'again'), 'again');
    off();
    assert.deepEqual(changes, ['open', 'half-open', 'closed']);
  });

  it('a failed probe opens it again; domain errors count as successes', async () => {
    const me = caller();
    const policies = new CallPolicies({ integrations: { catalog: { breaker: { failures: 2, halfOpenAfterMs: 30 } } } });
    const call = (impl: () => Promise<string>) =>
      policies.call({ caller: me, callee: 'catalog', fn: 'f', idempotent: false, deadline: Date.now() + 5_000 }, impl);
    const domain = () => Promise.reject(new CaroteneError('OUT_OF_STOCK', 'none', { status: 409, domain: true, service: 'catalog' }));
    for (let i = 0; i < 5; i += 1) await assert.rejects(call(domain), (e) => isCaroteneError(e, 'OUT_OF_STOCK'));
    await assert.rejects(call(() => Promise.reject(unavailable())));
    await assert.rejects(call(domain), (e) => isCaroteneError(e, 'OUT_OF_STOCK'), 'one failure between domain errors does not open it');
    await assert.rejects(call(() => Promise.reject(unavailable())));
    await assert.rejects(call(() => Promise.reject(unavailable())));
    await assert.rejects(
      call(async () => 'x'),
      (e) => isCaroteneError(e) && (e.details as { state: string }).state === 'open',
    );
    await sleep(45);
    await assert.rejects(
      call(() => Promise.reject(unavailable())),
      /ECONNREFUSED/,
    );
    await assert.rejects(
      call(async () => 'x'),
      (e) => isCaroteneError(e) && (e.details as { state: string }).state === 'open',
    );
  });

  it('rate mode opens when more than the rate of the last window failed', async () => {
    const me = caller();
    const policies = new CallPolicies({ integrations: { catalog: { breaker: { mode: 'rate', failureRate: 0.5, window: 10, minimumCalls: 10 } } } });
    const call = (fail: boolean) =>
      policies.call({ caller: me, callee: 'catalog', fn: 'f', idempotent: false, deadline: Date.now() + 5_000 }, async () => {
        if (fail) throw unavailable();
        return 'ok';
      });
    // the breaker opens when more than the rate failed, once the window holds minimumCalls
    for (let i = 0; i < 5; i += 1) assert.equal(await call(false), 'ok');
    for (let i = 0; i < 5; i += 1) await assert.rejects(call(true), /ECONNREFUSED/);
    assert.equal(await call(false), 'ok', 'five failures of ten is not more than half');
    await assert.rejects(call(true), /ECONNREFUSED/, 'six of the last ten: this failure opens it');
    await assert.rejects(call(false), (e) => isCaroteneError(e) && (e.details as { state: string }).state === 'open');
  });
});

describe('deadline', () => {
  it('a call whose caller has no time left fails without being sent or counted against the breaker', async () => {
    const me = caller();
    const policies = new CallPolicies({ integrations: { catalog: { breaker: { failures: 1 } } } });
    let sent = 0;
    const late = () => policies.call({ caller: me, callee: 'catalog', fn: 'f', idempotent: true, deadline: Date.now() - 1 }, async () => ++sent);
    for (let i = 0; i < 3; i += 1) await assert.rejects(late(), (e) => isCaroteneError(e, 'DEADLINE_EXCEEDED'));
    assert.equal(sent, 0);
    assert.equal(await policies.call({ caller: me, callee: 'catalog', fn: 'f', idempotent: false, deadline: Date.now() + 1_000 }, async () => 'sent'), 'sent');
  });
});

describe('bulkhead', () => {
  it('runs maxConcurrent, queues maxQueue, and fails the next one at once', async () => {
    const me = caller();
    const policies = new CallPolicies({ integrations: { catalog: { bulkhead: { maxConcurrent: 2, maxQueue: 1 } } } });
    let running = 0;
    let peak = 0;
    const gates: Array<() => void> = [];
    const call = () =>
      policies.call({ caller: me, callee: 'catalog', fn: 'f', idempotent: false, deadline: Date.now() + 5_000 }, async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => gates.push(r));
        running -= 1;
        return 'done';
      });
    const calls = [call(), call(), call()];
    await sleep(10);
    const started = performance.now();
    await assert.rejects(call(), (e) => isCaroteneError(e, 'UNAVAILABLE') && (e.details as { state: string }).state === 'bulkhead-full');
    // microseconds when idle; the bound leaves room for a loaded test machine, far below a queued call's 5 s
    assert.ok(performance.now() - started < 25);
    while (gates.length > 0 || running > 0) {
      gates.shift()?.();
      await sleep(1);
    }
    assert.deepEqual(await Promise.all(calls), ['done', 'done', 'done']);
    assert.equal(peak, 2);
  });
});

describe('retries', () => {
  it('retries idempotent calls on UNAVAILABLE and gives every attempt its own timeout', async () => {
    const me = caller();
    const policies = new CallPolicies({ integrations: { catalog: { timeoutMs: 200, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 } } } });
    const deadlines: number[] = [];
    const deadline = Date.now() + 5_000;
    const out = await policies.call({ caller: me, callee: 'catalog', fn: 'f', idempotent: true, deadline }, async (d) => {
      deadlines.push(d);
      if (deadlines.length < 3) throw unavailable();
      return 'third time';
    });
    assert.equal(out, 'third time');
    assert.equal(deadlines.length, 3);
    for (const d of deadlines) assert.ok(d < deadline - 4_000, 'the attempt deadline is the policy timeout, not the caller deadline');
  });

  it('never retries a call that is not idempotent, nor a domain error', async () => {
    const policies = new CallPolicies({ integrations: { payments: { retry: { maxAttempts: 5, baseDelayMs: 1 } } } });
    let n = 0;
    await assert.rejects(
      policies.call({ caller: caller(), callee: 'payments', fn: 'charge', idempotent: false, deadline: Date.now() + 5_000 }, async () => {
        n += 1;
        throw unavailable('payments');
      }),
    );
    assert.equal(n, 1);
    let m = 0;
    await assert.rejects(
      policies.call({ caller: caller(), callee: 'payments', fn: 'charge', idempotent: true, deadline: Date.now() + 5_000 }, async () => {
        m += 1;
        throw new CaroteneError('KEY_REUSED', 'no', { status: 422, domain: true, service: 'payments' });
      }),
    );
    assert.equal(m, 1);
  });

  it('does not retry past the deadline, and the backoff is full jitter below the exponential ceiling', async () => {
    const delays: number[] = [];
    let attempts = 0;
    await assert.rejects(
      withRetries(
        async () => {
          attempts += 1;
          throw unavailable();
        },
        {
          policy: { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 400 },
          deadline: Date.now() + 1_000_000,
          retryable: () => true,
          sleep: async (ms) => void delays.push(ms),
        },
      ),
    );
    assert.equal(attempts, 10);
    delays.forEach((d, i) => assert.ok(d >= 0 && d < Math.min(400, 100 * 2 ** i), `delay ${i} = ${d}`));
    assert.ok(new Set(delays).size > 1, 'delays are random');

    let tries = 0;
    const started = Date.now();
    await assert.rejects(
      withRetries(
        async () => {
          tries += 1;
          throw unavailable();
        },
        { policy: { maxAttempts: 10, baseDelayMs: 200, maxDelayMs: 200 }, deadline: Date.now() + 30, retryable: () => true },
      ),
    );
    assert.ok(Date.now() - started < 100, 'gave up instead of sleeping past the deadline');
    assert.ok(tries <= 2);
  });
});
