import type { AnyTables } from 'carotene/model';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { platformError } from 'carotene/model';
import type { StoreDriver } from './store-driver.ts';
import { SqliteBooleans } from './sqlite-booleans.ts';

/** How long a writer waits for another process's lock on the same file before failing. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * When a commit reaches the disk. `normal` (the default): the write-ahead log is synced at
 * checkpoints, not at every commit; a commit survives a crash or SIGKILL of the process and
 * the file never corrupts, but the last commits before a power loss or an operating-system
 * crash may roll back. `full`: every commit is synced before it returns (about 1 ms each on
 * an ordinary disk, against about 0.05 ms; docs/stores.md).
 */
export type SqliteSynchronous = 'normal' | 'full';

/** Opens (and creates) the SQLite file of one service. `':memory:'` gives a private, empty store. */
export function openSqlite(file: string, synchronous: SqliteSynchronous = 'normal'): StoreDriver {
  const memory = file === ':memory:';
  const path = memory ? file : resolve(file);
  let database: Database.Database;
  try {
    if (!memory) mkdirSync(dirname(path), { recursive: true });
    database = new Database(path);
    // WAL lets readers (another process, `carrot` tools) run beside the one writer
    database.pragma('journal_mode = WAL');
    database.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    database.pragma('foreign_keys = ON');
  } catch (cause) {
    throw platformError('UNAVAILABLE', `cannot open the SQLite store at ${path}: ${(cause as Error).message}`, { cause });
  }
  // SQLite cannot bind booleans; the plugin stores them as 1/0 for every query, not only handles'
  const db = new Kysely<AnyTables>({ dialect: new SqliteDialect({ database: immediateTransactions(database) }), plugins: [new SqliteBooleans()] });
  let closed: Promise<void> | undefined;

  return {
    kind: 'sqlite',
    db,
    async ping() {
      try {
        await sql`select 1`.execute(db);
      } catch (cause) {
        throw platformError('UNAVAILABLE', `the SQLite store at ${path} does not answer: ${(cause as Error).message}`, { cause });
      }
    },
    close() {
      closed ??= db.destroy();
      return closed;
    },
  };
}

/** Prepared statements kept per connection, by SQL text (the oldest is dropped beyond this). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * What Kysely's SQLite dialect sees of the database. Two changes to `prepare`:
 *
 * - Several processes may write one file (`carrot dev --scale`). A deferred transaction that
 *   reads, then writes, fails at once with "database is locked" when another process wrote in
 *   between; taking the write lock at `begin` makes it wait (up to the busy timeout) instead.
 * - The dialect prepares every query it runs. A statement is kept by its SQL text and used
 *   again (preparing was ~7 % of a busy service's CPU). Kysely runs one query at a time on
 *   the one connection (a stream holds it until it ends), so a kept statement is never busy.
 */
function immediateTransactions(database: Database.Database): { prepare: Database.Database['prepare']; close(): void } {
  const statements = new Map<string, Database.Statement>();
  const prepare = (source: string): Database.Statement => {
    let statement = statements.get(source);
    if (!statement) {
      statement = database.prepare(source === 'begin' ? 'begin immediate' : source);
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
      statements.set(source, statement);
    }
    return statement;
  };
  return {
    prepare: prepare as unknown as Database.Database['prepare'],
    close: () => {
      statements.clear();
      database.close();
    },
  };
}
