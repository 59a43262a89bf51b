import type { AnyDb } from 'carotene/model';
import { sql } from 'kysely';
import type { StoreDriver } from '../store/driver.ts';
import { deadLetters, outboxBacklog, outboxOldestAge, poolConnections, sagaInstances } from '../telemetry/metrics.ts';
import { DEAD_LETTERS, OUTBOX } from './platform-tables.ts';

/** Where the saga runner keeps one row per saga instance, with its `saga` and `status`. */
const SAGA_INSTANCES = 'carotene_sagas';

/**
 * Exports one service's event tables and database pool as gauges read at scrape time:
 * outbox backlog per destination, age of its oldest undelivered event, dead letters, saga
 * instances by saga and status, and pool connections (PostgreSQL). Returns the function that stops exporting them.
 *
 * ```ts
 * const stop = watchServiceTables('orders', store);
 * ```
 */
export function watchServiceTables(service: string, store: StoreDriver): () => void {
  const db: AnyDb = store.db;
  type Backlog = Array<{ destination: string; n: number | string; oldest: number | string | null }>;
  // both outbox gauges read one query per scrape: the second reader shares the first's while it runs
  let reading: Promise<Backlog> | undefined;
  const backlog = (): Promise<Backlog> =>
    (reading ??= (
      db
        .selectFrom(OUTBOX)
        .select(['destination', sql<number>`count(*)`.as('n'), sql<number | null>`min(created_at)`.as('oldest')])
        .where('delivered_at', 'is', null)
        .groupBy('destination')
        .execute() as Promise<Backlog>
    ).finally(() => (reading = undefined)));
  const stops = [
    outboxBacklog.add(async () => (await backlog()).map((r) => ({ labels: { service, destination: r.destination }, value: Number(r.n) }))),
    outboxOldestAge.add(async () => {
      const oldest = Math.min(...(await backlog()).map((r) => (r.oldest === null ? Infinity : Number(r.oldest))));
      return [{ labels: { service }, value: oldest === Infinity ? 0 : Math.max(0, (Date.now() - oldest) / 1000) }];
    }),
    deadLetters.add(async () => {
      const row = await db.selectFrom(DEAD_LETTERS).select(sql<number>`count(*)`.as('n')).executeTakeFirst();
      return [{ labels: { service }, value: Number(row?.n ?? 0) }];
    }),
    // the saga orchestrator's instances; a store without the saga tables yields no samples
    sagaInstances.add(async () => {
      const rows = (await db
        .selectFrom(SAGA_INSTANCES)
        .select(['saga', 'status', sql<number>`count(*)`.as('n')])
        .groupBy(['saga', 'status'])
        .execute()) as Array<{
        saga: string;
        status: string;
        n: number | string;
      }>;
      return rows.map((r) => ({ labels: { service, saga: r.saga, status: r.status }, value: Number(r.n) }));
    }),
  ];
  const stats = store.poolStats?.bind(store);
  if (stats) {
    stops.push(
      poolConnections.add(async () => {
        const s = stats();
        return [
          { labels: { service, state: 'total' }, value: s.total },
          { labels: { service, state: 'idle' }, value: s.idle },
          { labels: { service, state: 'waiting' }, value: s.waiting },
        ];
      }),
    );
  }
  return () => {
    for (const stop of stops) stop();
  };
}
