// On PostgreSQL: the pool's connections and the outbox backlog as /metrics shows them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { watchServiceTables } from '../../runtime/src/events/event-metrics.ts';
import { migrateEventTables, OUTBOX } from '../../runtime/src/events/platform-tables.ts';
import { openStore } from '../../runtime/src/store/driver.ts';
import { renderMetrics } from '../../runtime/src/telemetry/metrics.ts';
import { connectAdmin, databaseUrl, missingServer } from '../../runtime/test/support/postgres.ts';

function sample(text: string, prefix: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const connected = await connectAdmin();
if ('unreachable' in connected) {
  missingServer('metrics on postgres', `PostgreSQL not reachable: ${connected.unreachable}`);
} else {
  const server = connected.admin;
  const database = `carotene_metrics_${randomBytes(5).toString('hex')}`;
  await sql`create database ${sql.id(database)}`.execute(server.db);
  const store = await openStore({ url: databaseUrl(database) });
  after(async () => {
    await store.close();
    await sql`drop database if exists ${sql.id(database)} with (force)`.execute(server.db);
    await server.close();
  });

  describe('metrics on PostgreSQL', () => {
    it('shows the pool: connections grow with concurrent queries', async () => {
      await migrateEventTables(store.db, store.kind, 'pgsvc');
      const stop = watchServiceTables('pgsvc', store);
      try {
        // three queries that hold their connections for a while; the pool must show them
        let done = false;
        const busy = Promise.all([1, 2, 3].map(() => sql`select pg_sleep(3)`.execute(store.db))).finally(() => (done = true));
        let most = 0;
        while (!done && most < 3) {
          most = Math.max(most, sample(await renderMetrics(), 'carotene_db_pool_connections{service="pgsvc",state="total"}') ?? 0);
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(most >= 3, `the pool showed at most ${most} connections`);
        await busy;
        const afterwards = await renderMetrics();
        const total = sample(afterwards, 'carotene_db_pool_connections{service="pgsvc",state="total"}') ?? 0;
        const idle = sample(afterwards, 'carotene_db_pool_connections{service="pgsvc",state="idle"}') ?? 0;
        assert.ok(total >= 3 && idle >= 2, `total ${total}, idle ${idle}`);
        assert.equal(sample(afterwards, 'carotene_db_pool_connections{service="pgsvc",state="waiting"}'), 0);

        await store.db
          .insertInto(OUTBOX)
          .values([1, 2].map((i) => ({ id: `e${i}`, destination: 'audit', type: 'pgsvc.Done', key: 'k', envelope: '{}', created_at: Date.now() - 20_000 })))
          .execute();
        const text = await renderMetrics();
        assert.equal(sample(text, 'carotene_outbox_backlog{service="pgsvc",destination="audit"}'), 2);
        const age = sample(text, 'carotene_outbox_oldest_age_seconds{service="pgsvc"}') ?? 0;
        assert.ok(age >= 20 && age < 60, String(age));
      } finally {
        stop();
      }
    });
  });
}
