import type { AnyDb } from 'carotene/model';
import type { Log } from 'carotene/model';
import type { StoreEngine } from '../store/driver.ts';
import { backoffMs } from './backoff.ts';
import type { CloudEvent } from './envelope.ts';
import type { EventTransport } from './event-transport.ts';
import { ensureLease, takeLease } from './leases.ts';
import { OUTBOX, type OutboxRow } from './platform-tables.ts';

export interface RelayOptions {
  readonly db: AnyDb;
  readonly engine: StoreEngine;
  readonly transport: EventTransport;
  readonly log: Log;
  /** Most events pushed in one delivery (default 256). */
  readonly batchSize?: number;
  /** Safety net: look at the outbox this often even without a wake-up (default 1000 ms). */
  readonly pollMs?: number;
  /** Delivered rows are deleted after this long (default one hour). */
  readonly keepDeliveredMs?: number;
}

interface Destination {
  running: boolean;
  dirty: boolean;
  failures: number;
  retry: NodeJS.Timeout | undefined;
}

/**
 * Delivers the outbox: per destination, in publish order, in batches, marking rows delivered.
 * Woken right after a commit (in this process directly; on PostgreSQL every replica by
 * LISTEN/NOTIFY) and by a slow poll as a safety net, so nothing waits on a timer on the
 * main path. Rows survive restarts; a failed delivery is retried with backoff and the
 * destination's later rows wait behind it, so order holds.
 */
export class OutboxRelay {
  readonly #o: Required<Omit<RelayOptions, 'log'>> & { log: Log };
  readonly #destinations = new Map<string, Destination>();
  #poll: NodeJS.Timeout | undefined;
  #lastPrune = 0;
  #closed = false;
  readonly #running = new Set<Promise<void>>();

  constructor(options: RelayOptions) {
    this.#o = { batchSize: 256, pollMs: 1000, keepDeliveredMs: 3_600_000, ...options };
  }

  /** Starts relaying, beginning with whatever an earlier run left undelivered. */
  start(): void {
    this.#poll = setInterval(() => void this.#refresh(), this.#o.pollMs);
    this.#poll.unref();
    void this.#refresh();
  }

  /** Something committed: deliver it now. */
  wake(): void {
    if (this.#closed) return;
    if (this.#destinations.size === 0) return void this.#refresh();
    for (const name of this.#destinations.keys()) this.#kick(name);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#poll);
    for (const d of this.#destinations.values()) clearTimeout(d.retry);
    await Promise.allSettled([...this.#running]);
  }

  async #refresh(): Promise<void> {
    if (this.#closed) return;
    try {
      const rows = await this.#o.db.selectFrom(OUTBOX).select('destination').distinct().where('delivered_at', 'is', null).execute();
      for (const { destination } of rows as { destination: string }[]) this.#kick(destination);
      if (Date.now() - this.#lastPrune > 60_000) {
        this.#lastPrune = Date.now();
        await this.#o.db
          .deleteFrom(OUTBOX)
          .where('delivered_at', '<', Date.now() - this.#o.keepDeliveredMs)
          .execute();
      }
    } catch (err) {
      this.#o.log.warn({ err: String(err) }, 'outbox relay could not read the outbox');
    }
  }

  #kick(name: string): void {
    let d = this.#destinations.get(name);
    if (!d) {
      d = { running: false, dirty: false, failures: 0, retry: undefined };
      this.#destinations.set(name, d);
    }
    if (d.running) {
      d.dirty = true;
      return;
    }
    if (d.retry) return;
    d.running = true;
    const run = this.#drain(name, d).finally(() => {
      d.running = false;
      this.#running.delete(run);
    });
    this.#running.add(run);
  }

  async #drain(name: string, d: Destination): Promise<void> {
    if (this.#o.engine === 'postgres') await ensureLease(this.#o.db, `relay:${name}`).catch(() => undefined);
    while (!this.#closed) {
      d.dirty = false;
      let sent: number;
      try {
        sent = await this.#batch(name);
        d.failures = 0;
      } catch (err) {
        d.failures++;
        const delay = backoffMs(d.failures, 100, 5000);
        this.#o.log.warn({ destination: name, attempt: d.failures, retryInMs: delay, err: String(err) }, 'event delivery failed; will retry');
        d.retry = setTimeout(() => {
          d.retry = undefined;
          this.#kick(name);
        }, delay);
        d.retry.unref();
        return;
      }
      if (sent < this.#o.batchSize && !d.dirty) return;
    }
  }

  /** Delivers the oldest undelivered rows of one destination; resolves with how many. */
  async #batch(name: string): Promise<number> {
    const { db, engine } = this.#o;
    if (engine !== 'postgres') return this.#deliver(db, name);
    // one replica per destination at a time; the lease is held until the rows are marked
    return db.transaction().execute(async (trx) => ((await takeLease(trx, `relay:${name}`)) ? this.#deliver(trx, name) : 0));
  }

  async #deliver(db: AnyDb, name: string): Promise<number> {
    const rows = (await db
      .selectFrom(OUTBOX)
      .select(['seq', 'envelope'])
      .where('destination', '=', name)
      .where('delivered_at', 'is', null)
      .orderBy('seq')
      .limit(this.#o.batchSize)
      .execute()) as Pick<OutboxRow, 'seq' | 'envelope'>[];
    if (rows.length === 0) return 0;
    const events = rows.map((r) => JSON.parse(r.envelope) as CloudEvent);
    try {
      await this.#o.transport.deliver(name, events);
    } catch (err) {
      // outside the (rolled back) transaction: the count and the reason stay visible
      await this.#o.db
        .updateTable(OUTBOX)
        .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: String(err).slice(0, 1000) }))
        .where('seq', '=', rows[0]!.seq)
        .where('destination', '=', name)
        .execute()
        .catch(() => undefined);
      throw err;
    }
    await db
      .updateTable(OUTBOX)
      .set({ delivered_at: Date.now() })
      .where('destination', '=', name)
      .where(
        'seq',
        'in',
        rows.map((r) => r.seq),
      )
      .execute();
    return rows.length;
  }
}
