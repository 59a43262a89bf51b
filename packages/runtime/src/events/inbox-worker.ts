import type { AnyDb } from 'carotene/model';
import type { Log } from 'carotene/model';
import type { StoreEngine } from '../store/driver.ts';
import { backoffMs } from './backoff.ts';
import type { CloudEvent } from './envelope.ts';
import { ensureLease, takeLease } from './leases.ts';
import { DEAD_LETTERS, INBOX, type InboxRow } from './platform-tables.ts';

/** Runs the subscriber of one event inside `trx` (its writes and the inbox record commit together). */
export type HandleEvent = (trx: AnyDb, event: CloudEvent, attempt: number) => Promise<void>;

export interface RetryPolicy {
  /** Attempts before an event goes to the dead letters (default 5). */
  readonly maxAttempts: number;
  /** First retry delay; doubles each time (default 200 ms). */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 30_000 };

export interface InboxWorkerOptions {
  readonly db: AnyDb;
  readonly engine: StoreEngine;
  readonly handle: HandleEvent;
  readonly log: Log;
  readonly retry?: Partial<RetryPolicy>;
  /** Safety net poll (default 1000 ms); replays from `carrot events dlq` are seen by it. */
  readonly pollMs?: number;
  /** Most events handled in one transaction (default 100). */
  readonly batchSize?: number;
}

type Pending = Pick<InboxRow, 'seq' | 'id' | 'key' | 'envelope' | 'attempts' | 'next_attempt_at'>;

const LEASE = 'inbox';

/**
 * Handles the inbox in arrival order. Events with one key run one after another: while one
 * waits for a retry, the later ones of its key wait too. A failure is retried with
 * exponential backoff; after `maxAttempts` the event goes to `carotene_dead_letters` with
 * its error, and the key moves on. Under load, many events share one transaction; if one of
 * them fails, the batch is rolled back and they run one by one.
 */
export class InboxWorker {
  readonly #o: InboxWorkerOptions;
  readonly #retry: RetryPolicy;
  readonly #batchSize: number;
  #pumping: Promise<void> | undefined;
  #dirty = false;
  #closed = false;
  #poll: NodeJS.Timeout | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;

  constructor(options: InboxWorkerOptions) {
    this.#o = options;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#batchSize = options.batchSize ?? 100;
  }

  async start(): Promise<void> {
    if (this.#o.engine === 'postgres') await ensureLease(this.#o.db, LEASE);
    this.#poll = setInterval(() => this.wake(), this.#o.pollMs ?? 1000);
    this.#poll.unref();
    this.wake();
  }

  wake(): void {
    if (this.#closed) return;
    if (this.#pumping) {
      this.#dirty = true;
      return;
    }
    this.#pumping = this.#pump().finally(() => (this.#pumping = undefined));
  }

  /** Resolves once nothing is left to handle right now (for tests and benchmarks). */
  async idle(): Promise<void> {
    while (this.#pumping) await this.#pumping;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#poll);
    clearTimeout(this.#timer);
    await this.#pumping;
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        this.#dirty = false;
        const handled = await this.#pass();
        if (this.#closed || (handled === 0 && !this.#dirty)) return;
      }
    } catch (err) {
      this.#o.log.warn({ err: String(err) }, 'inbox worker could not read the inbox; will retry');
    }
  }

  /** One pass over the pending events; resolves with how many it settled. */
  async #pass(): Promise<number> {
    const { db } = this.#o;
    const rows = (await db
      .selectFrom(INBOX)
      .select(['seq', 'id', 'key', 'envelope', 'attempts', 'next_attempt_at'])
      .where('status', '=', 'pending')
      .orderBy('seq')
      .limit(this.#batchSize * 4)
      .execute()) as Pending[];
    if (rows.length === 0) return 0;
    const now = Date.now();
    const blocked = new Set<string>();
    const due: Pending[] = [];
    let nextAt = Infinity;
    for (const r of rows) {
      if (blocked.has(r.key)) continue;
      if (r.next_attempt_at > now) {
        // an earlier event of this key waits for its retry: the later ones wait behind it
        blocked.add(r.key);
        nextAt = Math.min(nextAt, r.next_attempt_at);
        continue;
      }
      if (due.length < this.#batchSize) due.push(r);
    }
    if (nextAt !== Infinity) this.#wakeAt(nextAt);
    if (due.length === 0) return 0;
    if (due.length > 1) {
      try {
        const ok = await this.#transaction(async (trx) => {
          for (const r of due) await this.#run(trx, r);
        });
        return ok ? due.length : 0;
      } catch {
        // one of them failed: find it by handling them one at a time
      }
    }
    let settled = 0;
    const failedKeys = new Set<string>();
    for (const r of due) {
      if (failedKeys.has(r.key)) continue;
      try {
        const ok = await this.#transaction((trx) => this.#run(trx, r));
        if (!ok) return settled;
        settled++;
      } catch (err) {
        failedKeys.add(r.key);
        if (await this.#fail(r, err)) settled++;
      }
    }
    return settled;
  }

  /** Runs `fn` in a transaction holding the inbox lease (PostgreSQL); false when another replica has it. */
  async #transaction(fn: (trx: AnyDb) => Promise<void>): Promise<boolean> {
    return this.#o.db.transaction().execute(async (trx) => {
      if (this.#o.engine === 'postgres' && !(await takeLease(trx, LEASE))) return false;
      await fn(trx);
      return true;
    });
  }

  async #run(trx: AnyDb, r: Pending): Promise<void> {
    await this.#o.handle(trx, JSON.parse(r.envelope) as CloudEvent, r.attempts + 1);
    const done = await trx
      .updateTable(INBOX)
      .set({ status: 'done', handled_at: Date.now(), attempts: r.attempts + 1, last_error: null })
      .where('seq', '=', r.seq)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    // handled by someone else meanwhile: roll back this run's writes
    if (done.numUpdatedRows === 0n) throw new Error(`inbox event ${r.id} is no longer pending`);
  }

  /** Records a failed attempt: a retry later, or the dead letters. Resolves true when dead-lettered. */
  async #fail(r: Pending, err: unknown): Promise<boolean> {
    const attempts = r.attempts + 1;
    const error = describe(err);
    const type = (JSON.parse(r.envelope) as CloudEvent).type;
    if (attempts >= this.#retry.maxAttempts) {
      this.#o.log.error({ eventId: r.id, type, attempts, err: error }, 'event dead-lettered');
      await this.#o.db.transaction().execute(async (trx) => {
        await trx.updateTable(INBOX).set({ status: 'dead', attempts, last_error: error }).where('seq', '=', r.seq).execute();
        const source = (JSON.parse(r.envelope) as CloudEvent).source;
        await trx
          .insertInto(DEAD_LETTERS)
          .values({ id: r.id, type, key: r.key, source, envelope: r.envelope, error, attempts, failed_at: Date.now() })
          .onConflict((oc) => oc.column('id').doUpdateSet({ error, attempts, failed_at: Date.now() }))
          .execute();
      });
      return true;
    }
    const delay = backoffMs(attempts, this.#retry.baseDelayMs, this.#retry.maxDelayMs);
    this.#o.log.warn({ eventId: r.id, type, attempt: attempts, retryInMs: delay, err: error }, 'subscriber failed; will retry');
    await this.#o.db
      .updateTable(INBOX)
      .set({ attempts, next_attempt_at: Date.now() + delay, last_error: error })
      .where('seq', '=', r.seq)
      .execute();
    this.#wakeAt(Date.now() + delay);
    return false;
  }

  #wakeAt(at: number): void {
    if (this.#closed || (this.#timer && this.#timerAt <= at && this.#timerAt > Date.now())) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.wake();
      },
      Math.max(0, at - Date.now()),
    );
    this.#timer.unref();
  }
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const text = typeof e?.message === 'string' ? (typeof e.code === 'string' ? `${e.code}: ${e.message}` : e.message) : String(err);
  return text.slice(0, 2000);
}
