// What GET /metrics shows: handler counters and histograms that follow the calls, and the
// outbox backlog and dead letters read from a real SQLite store at scrape time.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pino from 'pino';
import { watchServiceTables } from '../../src/events/event-metrics.ts';
import { DEAD_LETTERS, migrateEventTables, OUTBOX } from '../../src/events/platform-tables.ts';
import { createLogger } from '../../src/service/logger.ts';
import { ServiceRuntime } from '../../src/service/service-runtime.ts';
import { openStore, type StoreDriver } from '../../src/store/driver.ts';
import { migrate } from '../../src/store/migrations.ts';
import { renderMetrics } from '../../src/telemetry/metrics.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { echo } from '../fixtures/two-services.ts';

/** The value of the one sample whose line starts with `prefix` (0 when absent). */
function sample(text: string, prefix: string): number {
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const silent = createLogger('metrics-test', 'info', pino.destination({ dest: '/dev/null', sync: true }));
const noCalls: Transport = {
  call: () => Promise.reject(new Error('no calls in this test')),
  close: async () => undefined,
};

describe('metrics', () => {
  let dir: string;
  let store: StoreDriver;
  let runtime: ServiceRuntime;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'carotene-metrics-'));
    store = await openStore({ file: join(dir, 'echo.sqlite') });
    await migrate(store.db, echo.migrations, 'echo');
    await migrateEventTables(store.db, store.kind, 'echo');
    runtime = new ServiceRuntime({ def: echo, store, transport: noCalls, config: undefined, log: silent });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts calls per handler, status and code, with latency buckets', async () => {
    const meta = () => ({ caller: 'relay', requestId: `r-${Math.random()}`, deadline: Date.now() + 5_000 });
    const ok = 'carotene_handler_requests_total{service="echo",handler="echo",status="200",code="OK"}';
    const teapot = 'carotene_handler_requests_total{service="echo",handler="fail",status="409",code="TEAPOT"}';
    const crash = 'carotene_handler_requests_total{service="echo",handler="fail",status="500",code="INTERNAL"}';
    const before = await renderMetrics();
    await runtime.invoke('echo', { text: 'one' }, meta());
    await runtime.invoke('echo', { text: 'two' }, meta());
    await assert.rejects(runtime.invoke('fail', { code: 'DOMAIN' }, meta()), { code: 'TEAPOT' });
    await assert.rejects(runtime.invoke('fail', { code: 'CRASH' }, meta()), { code: 'INTERNAL' });
    const text = await renderMetrics();
    assert.equal(sample(text, ok), sample(before, ok) + 2);
    assert.equal(sample(text, teapot), sample(before, teapot) + 1);
    assert.equal(sample(text, crash), sample(before, crash) + 1);
    assert.equal(sample(text, 'carotene_handler_duration_seconds_count{service="echo",handler="echo"}'), 2);
    // cumulative buckets end at +Inf with every call in them
    assert.equal(sample(text, 'carotene_handler_duration_seconds_bucket{le="+Inf",service="echo",handler="echo"}'), 2);
    assert.match(text, /^carotene_handler_duration_seconds_bucket\{le="0\.001",service="echo",handler="echo"\} \d+$/m);
    assert.match(text, /^carotene_handler_duration_seconds_bucket\{le="10",service="echo",handler="fail"\} 2$/m);
  });

  it('reads the outbox backlog, the age of its oldest event and the dead letters at scrape time', async () => {
    const stop = watchServiceTables('echo', store);
    try {
      const now = Date.now();
      const row = (seq: number, destination: string, ageMs: number) => ({
        id: `e${seq}`,
        destination,
        type: 'echo.Said',
        key: 'k',
        envelope: '{}',
        created_at: now - ageMs,
      });
      await store.db
        .insertInto(OUTBOX)
        .values([row(1, 'relay', 30_000), row(2, 'relay', 10_000), row(3, 'audit', 5_000)])
        .execute();
      let text = await renderMetrics();
      assert.equal(sample(text, 'carotene_outbox_backlog{service="echo",destination="relay"}'), 2);
      assert.equal(sample(text, 'carotene_outbox_backlog{service="echo",destination="audit"}'), 1);
      const age = sample(text, 'carotene_outbox_oldest_age_seconds{service="echo"}');
      assert.ok(age >= 30 && age < 60, `the oldest undelivered event is ~30 s old, got ${age}`);
      assert.equal(sample(text, 'carotene_dead_letters{service="echo"}'), 0);

      // the relay delivers the two oldest: one left, five seconds old
      await store.db.updateTable(OUTBOX).set({ delivered_at: Date.now() }).where('id', 'in', ['e1', 'e2']).execute();
      await store.db
        .insertInto(DEAD_LETTERS)
        .values({ id: 'd1', type: 'relay.Said', key: 'k', source: '/services/relay', envelope: '{}', error: 'boom', attempts: 5, failed_at: now })
        .execute();
      text = await renderMetrics();
      assert.doesNotMatch(text, /destination="relay"/);
      assert.equal(sample(text, 'carotene_outbox_backlog{service="echo",destination="audit"}'), 1);
      const left = sample(text, 'carotene_outbox_oldest_age_seconds{service="echo"}');
      assert.ok(left >= 5 && left < 30, `now the oldest is ~5 s old, got ${left}`);
      assert.equal(sample(text, 'carotene_dead_letters{service="echo"}'), 1);
    } finally {
      stop();
    }
    // once the service stops, its samples go
    assert.doesNotMatch(await renderMetrics(), /carotene_dead_letters\{service="echo"\}/);
  });

  it('counts saga instances by saga and status', async () => {
    // only the saga table here: the other gauges of this store fail quietly and show nothing
    const sagas = await openStore({ file: join(dir, 'orchestrator.sqlite') });
    const stop = watchServiceTables('orchestrator', sagas);
    try {
      assert.doesNotMatch(await renderMetrics(), /^carotene_saga_instances\{service="orchestrator"/m, 'no saga table, no samples');
      await sql`create table carotene_sagas (id text primary key, saga text not null, status text not null)`.execute(sagas.db);
      const rows = [
        ['s1', 'checkout', 'completed'],
        ['s2', 'checkout', 'completed'],
        ['s3', 'checkout', 'compensating'],
        ['s4', 'refund', 'running'],
      ];
      for (const [id, saga, status] of rows) await sql`insert into carotene_sagas (id, saga, status) values (${id}, ${saga}, ${status})`.execute(sagas.db);
      const text = await renderMetrics();
      assert.equal(sample(text, 'carotene_saga_instances{service="orchestrator",saga="checkout",status="completed"}'), 2);
      assert.equal(sample(text, 'carotene_saga_instances{service="orchestrator",saga="checkout",status="compensating"}'), 1);
      assert.equal(sample(text, 'carotene_saga_instances{service="orchestrator",saga="refund",status="running"}'), 1);
      assert.doesNotMatch(text, /^carotene_outbox_backlog\{service="orchestrator"/m);
    } finally {
      stop();
      await sagas.close();
    }
  });
});
