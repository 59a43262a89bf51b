import type { AnyDb } from 'carotene/model';
import type { SagaFailure, SagaStatus } from 'carotene/model';
import { SAGA_STEPS, SAGAS } from '../events/platform-tables.ts';
import type { SagaRow, SagaStepRow } from './saga-store.ts';

/** One saga instance as tools show it (`carrot sagas list`, the dashboard). Times in epoch ms. */
export interface SagaSummary {
  readonly id: string;
  readonly saga: string;
  readonly status: SagaStatus;
  /** Running: the next step to run; compensating: the next step to undo; ended: undefined. */
  readonly step: string | undefined;
  readonly failure: SagaFailure | undefined;
  readonly startedAt: number;
  readonly updatedAt: number;
  readonly endedAt: number | undefined;
  readonly deadline: number;
  /** The runner that holds the instance, while one does. */
  readonly leaseOwner: string | undefined;
}

/** One try of a step or compensation. */
export interface SagaStepTry {
  readonly seq: number;
  readonly step: string;
  readonly phase: 'run' | 'compensate';
  readonly attempt: number;
  readonly status: SagaStepRow['status'];
  readonly idempotencyKey: string;
  readonly output: unknown;
  readonly error: SagaFailure | undefined;
  readonly startedAt: number;
  readonly endedAt: number | undefined;
}

/** An instance with its input, results and every step try in order. */
export interface SagaDetail extends SagaSummary {
  readonly input: unknown;
  readonly results: Readonly<Record<string, unknown>>;
  readonly steps: readonly SagaStepTry[];
}

/**
 * The newest saga instances of one service's database, optionally of one status.
 *
 * ```ts
 * const running = await listSagas(store.db, { limit: 20, status: 'compensating' });
 * ```
 */
export async function listSagas(db: AnyDb, options: { limit: number; status?: SagaStatus | undefined }): Promise<SagaSummary[]> {
  let query = db.selectFrom(SAGAS).selectAll().orderBy('created_at', 'desc').orderBy('id').limit(options.limit);
  if (options.status !== undefined) query = query.where('status', '=', options.status);
  const rows = (await query.execute()) as SagaRow[];
  const steps = await stepNames(db, rows);
  return rows.map((r) => summaryOf(r, steps.get(r.id)));
}

/** One instance and its step history, or undefined when this database has no such id. */
export async function showSaga(db: AnyDb, id: string): Promise<SagaDetail | undefined> {
  const row = (await db.selectFrom(SAGAS).selectAll().where('id', '=', id).executeTakeFirst()) as SagaRow | undefined;
  if (!row) return undefined;
  const tries = (await db.selectFrom(SAGA_STEPS).selectAll().where('saga_id', '=', id).orderBy('seq').execute()) as SagaStepRow[];
  const names = await stepNames(db, [row]);
  return {
    ...summaryOf(row, names.get(row.id)),
    input: JSON.parse(row.input) as unknown,
    results: JSON.parse(row.results) as Record<string, unknown>,
    steps: tries.map((t) => ({
      seq: Number(t.seq),
      step: t.step,
      phase: t.phase,
      attempt: Number(t.attempt),
      status: t.status,
      idempotencyKey: t.idempotency_key,
      output: t.output === null ? undefined : (JSON.parse(t.output) as unknown),
      error: t.error === null ? undefined : (JSON.parse(t.error) as SagaFailure),
      startedAt: Number(t.started_at),
      endedAt: t.ended_at === null ? undefined : Number(t.ended_at),
    })),
  };
}

/**
 * The name of each unfinished instance's current step. The instance row keeps only its index,
 * so it is read from the last step try (the runner records one before it runs a step).
 */
async function stepNames(db: AnyDb, rows: readonly SagaRow[]): Promise<Map<string, string>> {
  const open = rows.filter((r) => r.ended_at === null).map((r) => r.id);
  const names = new Map<string, string>();
  if (open.length === 0) return names;
  const tries = await db.selectFrom(SAGA_STEPS).select(['saga_id', 'step']).where('saga_id', 'in', open).orderBy('seq').execute();
  for (const t of tries) names.set(String(t.saga_id), String(t.step));
  return names;
}

function summaryOf(r: SagaRow, step: string | undefined): SagaSummary {
  return {
    id: r.id,
    saga: r.saga,
    status: r.status,
    step: r.ended_at === null ? step : undefined,
    failure: r.failure === null ? undefined : (JSON.parse(r.failure) as SagaFailure),
    startedAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    endedAt: r.ended_at === null ? undefined : Number(r.ended_at),
    deadline: Number(r.deadline),
    leaseOwner: r.lease_owner ?? undefined,
  };
}
