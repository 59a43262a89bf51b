import type { AnyDb } from 'carotene/model';
import { PostgresIntrospector, SqliteIntrospector, sql } from 'kysely';
import type { Migration } from 'carotene/model';
import { platformError } from 'carotene/model';
import type { StoreEngine } from './driver.ts';

/**
 * The engine behind a Kysely instance (or a transaction of it), from its dialect's
 * introspector: the one public part of Kysely that differs per dialect.
 */
export function engineOf(db: AnyDb): StoreEngine {
  const introspector = db.introspection;
  if (introspector instanceof SqliteIntrospector) return 'sqlite';
  if (introspector instanceof PostgresIntrospector) return 'postgres';
  throw platformError('INVALID_CONFIG', 'a generated migration runs on SQLite or PostgreSQL only');
}

/**
 * Runs one migration on `db`: a hand-written one's `up`, or a generated one's statements
 * for the engine of `db`, one after the other (the caller holds the transaction).
 *
 * ```ts
 * await runMigration(trx, { sqlite: ['ALTER TABLE "orders" ADD COLUMN "note" TEXT'], postgres: [...] });
 * ```
 */
export async function runMigration(db: AnyDb, migration: Migration): Promise<void> {
  if ('up' in migration) return migration.up(db);
  for (const statement of migration[engineOf(db)]) await sql.raw(statement).execute(db);
}
