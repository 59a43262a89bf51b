import type { AnyDb } from 'carotene/model';
import { randomUUID } from 'node:crypto';
import type { Log } from 'carotene/model';
import type { StepDef } from 'carotene/model';
import type { SagaFailure, SagaOutcome, SagaRef, SagaStartOptions } from 'carotene/model';
import { missingPermission, platformError } from 'carotene/model';
import { backoffMs } from '../events/backoff.ts';
import { headersOf, inSpan, SpanKind } from '../telemetry/spans.ts';
import type { TraceHeaders } from '../telemetry/trace-context.ts';
import { crashPoint } from './crash-points.ts';
import { pause } from './pause.ts';
import { SagaStore, type SagaRow } from './saga-store.ts';
import type { SagaBinding } from './saga-binding.ts';
import { stepContext } from './step-context.ts';
import { stepFailure } from './step-failure.ts';

export interface SagaRunnerOptions {
  readonly db: AnyDb;
  readonly service: string;
  readonly sagas: readonly SagaBinding[];
  readonly log: Log;
  /** How long an instance stays with a runner that stopped renewing it (default `CAROTENE_SAGA_LEASE_MS` or 10 s). */
  readonly leaseMs?: number;
  /** How often unfinished instances without a runner are looked for (default 1 s). */
  readonly pollMs?: number;
}

const DEFAULT_STEP_TIMEOUT_MS = 10_000;

type StepResult =
  | { readonly ok: true; readonly output: unknown; readonly seq: number }
  | { readonly ok: false; readonly failure: SagaFailure; readonly attempted: boolean }
  | { readonly stopped: true };

/**
 * Runs the sagas of one service, durably. Each instance is a row of `carotene_sagas`, each
 * try of a step a row of `carotene_saga_steps`, both in the service's own database; the
 * instance moves on only after the step's outcome is written. A runner drives the instances
 * it holds the lease of, renews the lease while it does, and adopts unfinished instances
 * whose lease ran out (their process died). Steps whose outcome is unknown are retried with
 * the same idempotency key until the saga's deadline; a step that fails for good (a declared
 * error, `ctx.fail`, a refusal or a validation error: see `stepFailure`) or the deadline
 * makes the runner compensate what ran at once, in reverse, retrying each compensation until
 * it succeeds.
 *
 * ```ts
 * const id = await runner.start(Checkout, { orderId }, { key: orderId });
 * const outcome = await runner.wait(id, Date.now() + 5_000);
 * ```
 */
export class SagaRunner {
  readonly owner = randomUUID();
  readonly #store: SagaStore;
  readonly #sagas: ReadonlyMap<string, SagaBinding>;
  readonly #service: string;
  readonly #log: Log;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #driving = new Map<string, Promise<void>>();
  /** Lease renewals of the instances driven here; close() stops them even if a step never returns. */
  readonly #renewals = new Set<NodeJS.Timeout>();
  /** Aborted by close(): cuts every backoff and poll short. */
  readonly #stopping = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: SagaRunnerOptions) {
    this.#leaseMs = options.leaseMs ?? (Number(process.env.CAROTENE_SAGA_LEASE_MS) || 10_000);
    this.#pollMs = options.pollMs ?? 1_000;
    this.#store = new SagaStore(options.db, this.owner, this.#leaseMs);
    this.#sagas = new Map(options.sagas.map((b) => [b.saga.name, b]));
    this.#service = options.service;
    this.#log = options.log;
  }

  /** Resumes unfinished instances whose runner is gone: now, then every `pollMs`. */
  resume(): void {
    const tick = async () => {
      await this.#adopt().catch((err: unknown) => this.#log.error({ err: String(err) }, 'saga runner could not look for unfinished sagas'));
      if (!this.#closed) this.#timer = setTimeout(tick, this.#pollMs).unref();
    };
    void tick();
  }

  /** Stops driving (a step in flight may finish) and lets go of every instance it holds. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#stopping.abort();
    // a step in flight may finish and record its outcome; one that hangs is not waited for
    await pause(2_000, { until: Promise.allSettled([...this.#driving.values()]) });
    for (const renew of this.#renewals) clearInterval(renew);
    this.#renewals.clear();
    await this.#store.releaseAll().catch(() => undefined);
  }

  /**
   * Starts an instance of `saga` and returns its id at once; the steps run in the background.
   * With `options.key`, the id is `<saga>/<key>` and a second start joins the first instance.
   */
  async start(saga: SagaRef, input: unknown, options: SagaStartOptions = {}, trace: TraceHeaders = {}): Promise<string> {
    const binding = this.#sagas.get(saga.name);
    if (!binding || binding.saga !== saga)
      throw platformError('PERMISSION_DENIED', `service '${this.#service}' does not list saga '${saga.name}' in its sagas`);
    const parsed = binding.saga.input.safeParse(input);
    if (!parsed.success) throw platformError('INVALID_INPUT', `invalid input for saga '${saga.name}': ${parsed.error.message}`);
    const id = `${saga.name}/${options.key ?? randomUUID()}`;
    const traceparent = trace.traceparent ?? null;
    const inserted = await this.#store.insert({
      id,
      saga: saga.name,
      input: JSON.stringify(parsed.data),
      deadline: Date.now() + binding.saga.timeout,
      traceparent,
    });
    if (inserted) this.#drive(id);
    return id;
  }

  /**
   * Resolves with the outcome of instance `id` once it has finished; rejects with
   * DEADLINE_EXCEEDED at `deadline` (a little before, so the caller can still answer)
   * while the instance runs on.
   */
  async wait(id: string, deadline: number): Promise<SagaOutcome> {
    const until = deadline - Math.min(250, Math.max(0, deadline - Date.now()) / 10);
    for (;;) {
      const row = await this.#store.get(id);
      if (!row) throw platformError('SAGA_NOT_FOUND', `no saga instance '${id}'`, { service: this.#service });
      if (row.ended_at !== null) return outcomeOf(row);
      if (this.#closed) {
        throw platformError('UNAVAILABLE', `service '${this.#service}' stopped before saga '${id}' finished; it resumes when the service runs again`, {
          service: this.#service,
          details: { sagaId: id },
        });
      }
      const left = until - Date.now();
      if (left <= 0) {
        throw platformError('DEADLINE_EXCEEDED', `saga '${id}' had not finished by the call's deadline; it goes on in the background`, {
          service: this.#service,
          details: { sagaId: id },
        });
      }
      // driven here: wake when it ends; else another runner drives it, so look again shortly
      const driving = this.#driving.get(id);
      await pause(driving ? left : Math.min(200, left), { until: driving, signal: this.#stopping.signal });
    }
  }

  async #adopt(): Promise<void> {
    if (this.#closed) return;
    for (const id of await this.#store.orphans(50)) {
      if (this.#closed || this.#driving.has(id)) continue;
      if (await this.#store.claim(id)) {
        this.#log.info({ sagaId: id }, 'saga adopted');
        this.#drive(id);
      }
    }
  }

  #drive(id: string): void {
    if (this.#driving.has(id)) return;
    const run = this.#run(id)
      .catch((err: unknown) =>
        this.#log.error({ sagaId: id, err: String(err) }, 'saga runner stopped on an error; the instance is adopted again when its lease runs out'),
      )
      .finally(() => this.#driving.delete(id));
    this.#driving.set(id, run);
  }

  async #run(id: string): Promise<void> {
    let lost = false;
    const renew = setInterval(
      () => {
        this.#store.renew(id).then(
          (held) => (lost ||= !held),
          () => undefined,
        );
      },
      Math.max(100, Math.floor(this.#leaseMs / 3)),
    );
    this.#renewals.add(renew);
    const stopped = () => this.#closed || lost;
    try {
      while (!stopped()) {
        const row = await this.#store.get(id);
        if (!row || row.ended_at !== null || row.lease_owner !== this.owner) return;
        const binding = this.#sagas.get(row.saga);
        if (!binding) {
          this.#log.error({ sagaId: id, saga: row.saga }, 'saga instance of a saga this service no longer declares; left as it is');
          return;
        }
        const moved = row.status === 'running' ? await this.#forward(row, binding, stopped) : await this.#backward(row, binding, stopped);
        if (!moved) lost = true;
      }
    } finally {
      clearInterval(renew);
      this.#renewals.delete(renew);
    }
  }

  /** Runs the next step; false when the lease was lost. */
  async #forward(row: SagaRow, binding: SagaBinding, stopped: () => boolean): Promise<boolean> {
    const { saga } = binding;
    if (row.step >= saga.steps.length) {
      this.#log.info({ sagaId: row.id }, 'saga completed');
      return this.#store.update(row.id, { status: 'completed', ended_at: Date.now(), lease_owner: null });
    }
    const step = saga.steps[row.step]!;
    const result = await this.#runStep(row, binding, step, stopped);
    if ('stopped' in result) return true;
    if (result.ok) {
      const results = { ...(JSON.parse(row.results) as Record<string, unknown>), [step.name]: result.output ?? null };
      // the step's outcome and the instance's progress commit together
      return this.#store.transaction(async (trx) => {
        await this.#store.stepEnded(result.seq, 'done', { output: result.output }, trx);
        return this.#store.update(row.id, { results: JSON.stringify(results), step: row.step + 1 }, trx);
      });
    }
    // a step that failed for good did nothing to undo; one whose outcome is unknown may have
    const from = result.attempted ? row.step : row.step - 1;
    this.#log.warn({ sagaId: row.id, step: step.name, code: result.failure.code, reason: result.failure.message }, 'saga compensates');
    return this.#store.update(row.id, { status: 'compensating', step: from, failure: JSON.stringify(result.failure) });
  }

  /** Compensates the next step back; false when the lease was lost. */
  async #backward(row: SagaRow, binding: SagaBinding, stopped: () => boolean): Promise<boolean> {
    if (row.step < 0) {
      this.#log.info({ sagaId: row.id }, 'saga compensated');
      return this.#store.update(row.id, { status: 'compensated', ended_at: Date.now(), lease_owner: null });
    }
    const step = binding.saga.steps[row.step]!;
    if (!step.compensate) return this.#store.update(row.id, { step: row.step - 1 });
    const done = await this.#compensateStep(row, binding, step, stopped);
    if (done === undefined) return true;
    return this.#store.transaction(async (trx) => {
      await this.#store.stepEnded(done.seq, 'done', { output: done.output }, trx);
      return this.#store.update(row.id, { step: row.step - 1 }, trx);
    });
  }

  async #runStep(row: SagaRow, binding: SagaBinding, step: StepDef, stopped: () => boolean): Promise<StepResult> {
    const point = `saga:${row.saga}:%s:${step.name}`;
    const input = JSON.parse(row.input) as unknown;
    const key = `${row.id}/${step.name}`;
    let attempt = await this.#store.attempts(row.id, step.name, 'run');
    let last: SagaFailure | undefined;
    for (;;) {
      if (stopped()) return { stopped: true };
      if (Date.now() >= row.deadline) {
        // the cause that kept the step from completing, not only that time ran out
        const cause = last ? `; last error: ${last.code} ${last.message}` : '';
        return {
          ok: false,
          attempted: attempt > 0,
          failure: { step: step.name, code: 'SAGA_TIMEOUT', message: `saga deadline passed before '${step.name}' completed${cause}` },
        };
      }
      attempt++;
      const seq = await this.#store.stepStarted({ saga_id: row.id, step: step.name, phase: 'run', attempt, idempotency_key: key });
      crashPoint(point.replace('%s', 'before'));
      const deadline = Math.min(row.deadline, Date.now() + (step.timeout ?? DEFAULT_STEP_TIMEOUT_MS));
      try {
        const output = await inSpan(
          `saga ${row.saga} ${step.name}`,
          SpanKind.INTERNAL,
          carriedBy(row),
          this.#stepAttributes(row, step.name, 'run', attempt),
          (span) =>
            step.run(
              input,
              stepContext({ binding, row, step: step.name, key, attempt, deadline, failure: undefined, service: this.#service, trace: headersOf(span, {}) }),
            ),
        );
        crashPoint(point.replace('%s', 'after'));
        return { ok: true, output, seq };
      } catch (err) {
        const { failure, permanent, refused } = stepFailure(step.name, err);
        await this.#store.stepEnded(seq, permanent ? 'failed' : 'error', { error: failure });
        if (failure.code === 'PERMISSION_DENIED') {
          this.#log.error(
            { sagaId: row.id, step: step.name, ...missingOf(err), code: failure.code, err: failure.message },
            'saga step used a permission it did not declare (a bug of this service)',
          );
        }
        // no retry can help: compensate at once; the step itself too unless it was refused
        // on this first try (an earlier try's outcome is unknown: it may have done something)
        if (permanent) return { ok: false, attempted: !refused || attempt > 1, failure };
        last = failure;
        this.#log.warn({ sagaId: row.id, step: step.name, attempt, code: failure.code, err: failure.message }, 'saga step failed; retrying');
        if (step.retry?.attempts !== undefined && attempt >= step.retry.attempts) return { ok: false, attempted: true, failure };
        const wait = backoffMs(attempt, step.retry?.backoffMs ?? 100, step.retry?.maxBackoffMs ?? 2_000);
        await pause(Math.min(wait, row.deadline - Date.now()), { signal: this.#stopping.signal });
      }
    }
  }

  /** What a step's span says about it (one span per try). */
  #stepAttributes(row: SagaRow, step: string, phase: 'run' | 'compensate', attempt: number) {
    return {
      'carotene.service': this.#service,
      'carotene.saga': row.saga,
      'carotene.saga.id': row.id,
      'carotene.saga.step': step,
      'carotene.saga.phase': phase,
      'carotene.saga.attempt': attempt,
    };
  }

  /** Retries the compensation with backoff until it succeeds (its try's seq and output); undefined when stopped first. */
  async #compensateStep(row: SagaRow, binding: SagaBinding, step: StepDef, stopped: () => boolean): Promise<{ seq: number; output: unknown } | undefined> {
    const point = `saga:${row.saga}:%s:compensate-${step.name}`;
    const input = JSON.parse(row.input) as unknown;
    const failure = row.failure === null ? undefined : (JSON.parse(row.failure) as SagaFailure);
    const key = `${row.id}/${step.name}/compensate`;
    let attempt = await this.#store.attempts(row.id, step.name, 'compensate');
    for (;;) {
      if (stopped()) return undefined;
      attempt++;
      const seq = await this.#store.stepStarted({ saga_id: row.id, step: step.name, phase: 'compensate', attempt, idempotency_key: key });
      crashPoint(point.replace('%s', 'before'));
      const deadline = Date.now() + (step.timeout ?? DEFAULT_STEP_TIMEOUT_MS);
      try {
        const output = await inSpan(
          `saga ${row.saga} compensate ${step.name}`,
          SpanKind.INTERNAL,
          carriedBy(row),
          this.#stepAttributes(row, step.name, 'compensate', attempt),
          (span) =>
            step.compensate!(
              input,
              stepContext({ binding, row, step: step.name, key, attempt, deadline, failure, service: this.#service, trace: headersOf(span, {}) }),
            ),
        );
        crashPoint(point.replace('%s', 'after'));
        return { seq, output };
      } catch (err) {
        const error = stepFailure(step.name, err).failure;
        await this.#store.stepEnded(seq, 'error', { error });
        this.#log.error({ sagaId: row.id, step: step.name, attempt, code: error.code, err: error.message }, 'saga compensation failed; retrying');
        await pause(backoffMs(attempt, step.retry?.backoffMs ?? 100, 5_000), { signal: this.#stopping.signal });
      }
    }
  }
}

/** The trace the instance was started in (also after a restart, when no span is active). */
function carriedBy(row: SagaRow): TraceHeaders {
  return row.traceparent === null ? {} : { traceparent: row.traceparent };
}

/** The log fields of a PERMISSION_DENIED: which list misses what. */
function missingOf(err: unknown): { permission?: string; missing?: string } {
  const m = missingPermission(err);
  return m ? { permission: m.permission, missing: m.name } : {};
}

function outcomeOf(row: SagaRow): SagaOutcome {
  const results = JSON.parse(row.results) as Record<string, unknown>;
  if (row.status === 'completed') return { id: row.id, status: 'completed', results };
  return { id: row.id, status: 'compensated', results, failure: row.failure === null ? undefined : (JSON.parse(row.failure) as SagaFailure) };
}
