import type { AnyDb } from 'carotene/model';
import { CaroteneError, isCaroteneError } from 'carotene/model';
import { IDEMPOTENCY } from '../events/platform-tables.ts';
import { isUniqueViolation } from '../store/store-errors.ts';

/** Who asked for what: a key is unique per calling service and function. */
export interface KeyedCall {
  readonly caller: string;
  readonly fn: string;
  readonly key: string;
}

interface KeyRow {
  outcome: 'pending' | 'ok' | 'error';
  result: string | null;
}

/** A declared (domain) error as it is kept for replay. */
interface StoredError {
  code: string;
  message: string;
  status: number;
  service?: string | undefined;
  details?: unknown;
}

/**
 * The callee's side of idempotency keys: a call that carries a key runs in one transaction
 * with the key's record, so its writes and its result commit together, and a repeated key
 * gets the first result without running again. A declared (domain) error is a result too;
 * platform errors (timeouts, bugs) are not kept, so a retry runs the handler again.
 *
 * Concurrent twins: on SQLite, transactions of one process run one at a time, so the second
 * finds the first's record; on PostgreSQL, the second's insert of the same key waits for the
 * first transaction and then fails as a unique violation, after which the first result is read.
 *
 * ```ts
 * const out = await keys.once({ caller: 'orders', fn: 'charge', key: 'checkout/ord_1/charge' }, (trx) => run(trx));
 * ```
 */
export class IdempotentCalls {
  readonly #db: AnyDb;

  constructor(db: AnyDb) {
    this.#db = db;
  }

  async once(call: KeyedCall, work: (trx: AnyDb) => Promise<unknown>): Promise<unknown> {
    const first = await find(this.#db, call);
    if (first) return replay(first);
    try {
      const out = await this.#db.transaction().execute(async (trx) => {
        const prior = await find(trx, call);
        if (prior) return { replayed: replay(prior) };
        await trx
          .insertInto(IDEMPOTENCY)
          .values({ ...call, outcome: 'pending', result: null, created_at: Date.now() })
          .execute();
        const result = await work(trx);
        await where(trx.updateTable(IDEMPOTENCY).set({ outcome: 'ok', result: JSON.stringify(result ?? null) }), call).execute();
        return { result };
      });
      return 'replayed' in out ? out.replayed : out.result;
    } catch (err) {
      if (isUniqueViolation(err)) {
        const winner = await find(this.#db, call);
        if (winner) return replay(winner);
      }
      if (isCaroteneError(err) && err.domain) await this.#keepError(call, err);
      throw err;
    }
  }

  async #keepError(call: KeyedCall, err: CaroteneError): Promise<void> {
    const stored: StoredError = { code: err.code, message: err.message, status: err.status, service: err.service, details: err.details };
    await this.#db
      .insertInto(IDEMPOTENCY)
      .values({ ...call, outcome: 'error', result: JSON.stringify(stored), created_at: Date.now() })
      .onConflict((oc) => oc.columns(['caller', 'fn', 'key']).doNothing())
      .execute();
  }
}

function where<Q extends { where(column: string, op: '=', value: string): Q }>(query: Q, call: KeyedCall): Q {
  return query.where('caller', '=', call.caller).where('fn', '=', call.fn).where('key', '=', call.key);
}

async function find(db: AnyDb, call: KeyedCall): Promise<KeyRow | undefined> {
  const row = (await where(db.selectFrom(IDEMPOTENCY).select(['outcome', 'result']), call).executeTakeFirst()) as KeyRow | undefined;
  // 'pending' is never seen committed: it is written and settled in one transaction
  return row && row.outcome !== 'pending' ? row : undefined;
}

function replay(row: KeyRow): unknown {
  const value = JSON.parse(row.result ?? 'null') as unknown;
  if (row.outcome === 'ok') return value;
  const e = value as StoredError;
  throw new CaroteneError(e.code, e.message, { status: e.status, domain: true, service: e.service, details: e.details });
}
