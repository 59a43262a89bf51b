import type { AnyDb } from 'carotene/model';
import { Migrator, sql, type Migration } from 'kysely';
import { platformError } from 'carotene/model';
import type { StoreEngine } from '../store/driver.ts';

export const OUTBOX = 'carotene_outbox';
export const INBOX = 'carotene_inbox';
export const DEAD_LETTERS = 'carotene_dead_letters';
export const LEASES = 'carotene_event_leases';
/** Saga instances of the sagas a service orchestrates (see src/sagas/). */
export const SAGAS = 'carotene_sagas';
/** Every try of every saga step and compensation, in order. */
export const SAGA_STEPS = 'carotene_saga_steps';
/** The first result of each call that carried an idempotency key, per caller and function. */
export const IDEMPOTENCY = 'carotene_idempotency';

/** One outbox row per event and destination (a subscribing service, or the broker). */
export interface OutboxRow {
  seq: number;
  id: string;
  destination: string;
  type: string;
  key: string;
  envelope: string;
  created_at: number;
  delivered_at: number | null;
  attempts: number;
  last_error: string | null;
}

/** One inbox row per event received; `status` moves pending → done, or pending → dead. */
export interface InboxRow {
  seq: number;
  id: string;
  type: string;
  key: string;
  source: string;
  envelope: string;
  status: 'pending' | 'done' | 'dead';
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  received_at: number;
  handled_at: number | null;
}

export interface DeadLetterRow {
  id: string;
  type: string;
  key: string;
  source: string;
  envelope: string;
  error: string;
  attempts: number;
  failed_at: number;
}

function migrations(engine: StoreEngine): Record<string, Migration> {
  // the one engine difference: how an ever-growing sequence is spelled
  const seq = engine === 'postgres' ? sql`bigserial primary key` : sql`integer primary key autoincrement`;
  return {
    '0001_events': {
      async up(db: AnyDb) {
        await sql`create table ${sql.table(OUTBOX)} (
          seq ${seq}, id text not null, destination text not null, type text not null, key text not null,
          envelope text not null, created_at bigint not null, delivered_at bigint, attempts integer not null default 0,
          last_error text, unique (id, destination))`.execute(db);
        await sql`create index carotene_outbox_pending on ${sql.table(OUTBOX)} (destination, seq) where delivered_at is null`.execute(db);
        await sql`create table ${sql.table(INBOX)} (
          seq ${seq}, id text not null unique, type text not null, key text not null, source text not null,
          envelope text not null, status text not null, attempts integer not null default 0, next_attempt_at bigint not null,
          last_error text, received_at bigint not null, handled_at bigint)`.execute(db);
        await sql`create index carotene_inbox_pending on ${sql.table(INBOX)} (seq) where status = 'pending'`.execute(db);
        await sql`create table ${sql.table(DEAD_LETTERS)} (
          id text primary key, type text not null, key text not null, source text not null, envelope text not null,
          error text not null, attempts integer not null, failed_at bigint not null)`.execute(db);
        await sql`create table ${sql.table(LEASES)} (name text primary key)`.execute(db);
      },
    },
    '0002_sagas': {
      async up(db: AnyDb) {
        // step: the next step to run (running) or the next one to compensate (compensating)
        await sql`create table ${sql.table(SAGAS)} (
          id text primary key, saga text not null, status text not null, input text not null, results text not null,
          step integer not null, failure text, deadline bigint not null, lease_owner text, lease_until bigint not null,
          created_at bigint not null, updated_at bigint not null, ended_at bigint)`.execute(db);
        await sql`create index carotene_sagas_unfinished on ${sql.table(SAGAS)} (lease_until) where ended_at is null`.execute(db);
        await sql`create index carotene_sagas_created on ${sql.table(SAGAS)} (created_at)`.execute(db);
        await sql`create table ${sql.table(SAGA_STEPS)} (
          seq ${seq}, saga_id text not null, step text not null, phase text not null, attempt integer not null,
          status text not null, idempotency_key text not null, output text, error text, started_at bigint not null, ended_at bigint)`.execute(db);
        await sql`create index carotene_saga_steps_saga on ${sql.table(SAGA_STEPS)} (saga_id, seq)`.execute(db);
      },
    },
    '0003_idempotency': {
      async up(db: AnyDb) {
        await sql`create table ${sql.table(IDEMPOTENCY)} (
          caller text not null, fn text not null, key text not null, outcome text not null, result text,
          created_at bigint not null, primary key (caller, fn, key))`.execute(db);
      },
    },
    '0004_saga_trace': {
      // the trace a saga was started in: its steps continue it, also after a restart
      async up(db: AnyDb) {
        await sql`alter table ${sql.table(SAGAS)} add column traceparent text`.execute(db);
      },
    },
  };
}

/**
 * Creates Carotene's own tables (outbox, inbox, dead letters, relay leases, saga instances
 * and steps, idempotency keys) in a service's database. They are versioned apart from the service's declared migrations
 * (in `carotene_platform_migrations`), so a service's own migration names never clash.
 */
export async function migrateEventTables(db: AnyDb, engine: StoreEngine, service: string): Promise<void> {
  const provided = migrations(engine);
  const migrator = new Migrator({
    db,
    provider: {
      getMigrations: async () =>
        Object.fromEntries(
          Object.entries(provided).map(([name, m]) => [
            name,
            { up: (conn: AnyDb) => (conn.isTransaction ? m.up(conn) : conn.transaction().execute((trx) => m.up(trx))) },
          ]),
        ),
    },
    migrationTableName: 'carotene_platform_migrations',
    migrationLockTableName: 'carotene_platform_migrations_lock',
  });
  const { error } = await migrator.migrateToLatest();
  if (error !== undefined) {
    throw platformError('INVALID_CONFIG', `service '${service}': Carotene's event tables could not be created: ${(error as Error).message ?? String(error)}`, {
      service,
      cause: error,
    });
  }
}
