import type { AnyDb } from 'carotene/model';
import { Migrator, type Migration as KyselyMigration } from 'kysely';
import type { Migration } from 'carotene/model';
import { platformError } from 'carotene/model';
import { runMigration } from './run-migration.ts';

const MIGRATION_TABLE = 'carotene_migrations';
const LOCK_TABLE = 'carotene_migrations_lock';

function migrator(db: AnyDb, migrations: Readonly<Record<string, Migration>>): Migrator {
  // Kysely runs each PostgreSQL batch in a transaction but SQLite migrations bare, though
  // SQLite DDL is transactional too: wrap those so a failing one leaves nothing half-made
  const provided: Record<string, KyselyMigration> = {};
  for (const [name, m] of Object.entries(migrations)) {
    provided[name] = { up: (conn: AnyDb) => (conn.isTransaction ? runMigration(conn, m) : conn.transaction().execute((trx) => runMigration(trx, m))) };
  }
  return new Migrator({
    db,
    provider: { getMigrations: async () => provided },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: LOCK_TABLE,
  });
}

/**
 * Applies the declared migrations that this database has not run yet, in name order, and
 * returns their names. Each runs in its own transaction and is recorded in
 * `carotene_migrations`, so running it again applies nothing; processes that start
 * together take turns on `carotene_migrations_lock`.
 *
 * ```ts
 * await migrate(store.db, { '0001_products': { up: (db) => db.schema.createTable('products')...execute() } }, 'catalog');
 * ```
 */
export async function migrate(db: AnyDb, migrations: Readonly<Record<string, Migration>>, service: string): Promise<string[]> {
  const m = migrator(db, migrations);
  const applied: string[] = [];
  // one step at a time: a failure keeps the migrations before it, on every engine alike
  for (;;) {
    const { error, results = [] } = await m.migrateUp();
    const failed = results.find((r) => r.status === 'Error');
    if (error !== undefined || failed !== undefined) {
      const why = error instanceof Error ? error.message : String(error);
      const what = failed ? `migration '${failed.migrationName}' failed` : 'migrations could not run';
      const kept = applied.length > 0 ? ` (applied before it: ${applied.join(', ')})` : '';
      throw platformError('INVALID_CONFIG', `service '${service}': ${what}: ${why}${kept}`, { service, cause: error });
    }
    const done = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
    if (done.length === 0) return applied;
    applied.push(...done);
  }
}

/** Names of the declared migrations this database has not run yet (empty when ready). */
export async function pendingMigrations(db: AnyDb, migrations: Readonly<Record<string, Migration>>): Promise<string[]> {
  const infos = await migrator(db, migrations).getMigrations();
  return infos.filter((i) => i.executedAt === undefined).map((i) => i.name);
}
