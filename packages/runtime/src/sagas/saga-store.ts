import type { AnyDb } from 'carotene/model';
import type { SagaFailure, SagaStatus } from 'carotene/model';
import { SAGA_STEPS, SAGAS } from '../events/platform-tables.ts';

/** One row of `carotene_sagas`. */
export interface SagaRow {
  id: string;
  saga: string;
  status: SagaStatus;
  /** JSON of the parsed input. */
  input: string;
  /** JSON object: output of each completed step, by name. */
  results: string;
  /** Running: index of the next step to run. Compensating: index of the next step to compensate (-1: done). */
  step: number;
  /** JSON of the {@link SagaFailure} that made it compensate. */
  failure: string | null;
  deadline: number;
  lease_owner: string | null;
  lease_until: number;
  created_at: number;
  updated_at: number;
  ended_at: number | null;
  /** W3C trace context of the span that started the instance; its steps' spans continue it. */
  traceparent: string | null;
}

/** One row of `carotene_saga_steps`: one try of a step (`phase` run) or of its compensation. */
export interface SagaStepRow {
  seq: number;
  saga_id: string;
  step: string;
  phase: 'run' | 'compensate';
  attempt: number;
  /** started → done | failed (for good) | error (outcome unknown; retried). */
  status: 'started' | 'done' | 'failed' | 'error';
  idempotency_key: string;
  output: string | null;
  error: string | null;
  started_at: number;
  ended_at: number | null;
}

/**
 * Reads and writes saga state. Every write of an instance is conditional on holding its
 * lease (`lease_owner`), so a runner that lost it (paused, partitioned) changes nothing.
 */
export class SagaStore {
  readonly #db: AnyDb;
  readonly #owner: string;
  readonly #leaseMs: number;

  constructor(db: AnyDb, owner: string, leaseMs: number) {
    this.#db = db;
    this.#owner = owner;
    this.#leaseMs = leaseMs;
  }

  /** Inserts a new instance, leased to this runner; false when the id exists already. */
  async insert(row: Pick<SagaRow, 'id' | 'saga' | 'input' | 'deadline' | 'traceparent'>): Promise<boolean> {
    const now = Date.now();
    const result = await this.#db
      .insertInto(SAGAS)
      .values({
        ...row,
        status: 'running',
        results: '{}',
        step: 0,
        failure: null,
        lease_owner: this.#owner,
        lease_until: now + this.#leaseMs,
        created_at: now,
        updated_at: now,
        ended_at: null,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  get(id: string): Promise<SagaRow | undefined> {
    return this.#db.selectFrom(SAGAS).selectAll().where('id', '=', id).executeTakeFirst() as Promise<SagaRow | undefined>;
  }

  /** Unfinished instances whose lease has run out (their runner died or let go). */
  async orphans(limit: number): Promise<string[]> {
    const rows = await this.#db
      .selectFrom(SAGAS)
      .select('id')
      .where('ended_at', 'is', null)
      .where('lease_until', '<', Date.now())
      .orderBy('created_at')
      .limit(limit)
      .execute();
    return rows.map((r) => String(r.id));
  }

  /** Takes an orphan's lease; false when another runner took it first. */
  async claim(id: string): Promise<boolean> {
    const now = Date.now();
    const result = await this.#db
      .updateTable(SAGAS)
      .set({ lease_owner: this.#owner, lease_until: now + this.#leaseMs })
      .where('id', '=', id)
      .where('ended_at', 'is', null)
      .where('lease_until', '<', now)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Extends the lease of `id`; false when this runner no longer holds it. */
  renew(id: string): Promise<boolean> {
    return this.update(id, { lease_until: Date.now() + this.#leaseMs });
  }

  /** Updates the instance if this runner holds its lease; false otherwise. */
  async update(id: string, patch: Partial<SagaRow>, db: AnyDb = this.#db): Promise<boolean> {
    const result = await db
      .updateTable(SAGAS)
      .set({ ...patch, updated_at: Date.now() })
      .where('id', '=', id)
      .where('lease_owner', '=', this.#owner)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Lets go of every unfinished instance this runner holds, so another can take them at once. */
  async releaseAll(): Promise<void> {
    await this.#db.updateTable(SAGAS).set({ lease_owner: null, lease_until: 0 }).where('lease_owner', '=', this.#owner).where('ended_at', 'is', null).execute();
  }

  /** Tries recorded so far of one step in one phase (attempt numbers go on after a restart). */
  async attempts(sagaId: string, step: string, phase: SagaStepRow['phase']): Promise<number> {
    const row = await this.#db
      .selectFrom(SAGA_STEPS)
      .select((eb) => eb.fn.countAll().as('n'))
      .where('saga_id', '=', sagaId)
      .where('step', '=', step)
      .where('phase', '=', phase)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async stepStarted(row: Pick<SagaStepRow, 'saga_id' | 'step' | 'phase' | 'attempt' | 'idempotency_key'>): Promise<number> {
    const inserted = await this.#db
      .insertInto(SAGA_STEPS)
      .values({ ...row, status: 'started', output: null, error: null, started_at: Date.now(), ended_at: null })
      .returning('seq')
      .executeTakeFirstOrThrow();
    return Number(inserted.seq);
  }

  async stepEnded(seq: number, status: SagaStepRow['status'], fields: { output?: unknown; error?: SagaFailure }, db: AnyDb = this.#db): Promise<void> {
    await db
      .updateTable(SAGA_STEPS)
      .set({
        status,
        output: fields.output === undefined ? null : JSON.stringify(fields.output),
        error: fields.error === undefined ? null : JSON.stringify(fields.error),
        ended_at: Date.now(),
      })
      .where('seq', '=', seq)
      .execute();
  }

  /** Runs `fn` in one transaction (a step's outcome and the instance's progress commit together). */
  transaction<T>(fn: (trx: AnyDb) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute(fn);
  }
}
