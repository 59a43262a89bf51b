import type { Kysely } from 'kysely';
import { platformError } from '../errors.ts';

/** The engines a service's store can run on. */
export type StoreEngine = 'sqlite' | 'postgres';

/**
 * One service's database, open. The same interface for the embedded SQLite file and for
 * PostgreSQL in production, so everything above it (migrations, table handles, the
 * runtime) is written once and tested by one shared suite.
 */
export interface StoreDriver {
  readonly kind: StoreEngine;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
  readonly db: Kysely<any>;
  /** Resolves when the database answers a query; throws UNAVAILABLE otherwise (for `/ready`). */
  ping(): Promise<void>;
  /** Connections of the pool, for metrics (PostgreSQL; SQLite has one connection and no pool). */
  poolStats?(): { total: number; idle: number; waiting: number };
  /** Closes every connection. Safe to call more than once. */
  close(): Promise<void>;
}

export interface StoreOptions {
  /** `postgres://` or `postgresql://` URL of the service's own database. */
  readonly url?: string;
  /** SQLite file (its folder is created), or `':memory:'`; used when `url` is not PostgreSQL. */
  readonly file?: string;
  /** When a SQLite commit reaches the disk (default `normal`; see `SqliteSynchronous`). */
  readonly synchronous?: 'normal' | 'full';
}

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;

/**
 * Opens a service's store: PostgreSQL when `url` is a `postgres://` URL, otherwise the
 * SQLite `file`. A PostgreSQL store is reached once before this resolves, so a wrong host
 * fails at start with UNAVAILABLE instead of at the first request.
 *
 * ```ts
 * const store = await openStore({ url: process.env.DATABASE_URL, file: '.carotene/catalog.db' });
 * await migrate(store.db, service.migrations, service.name);
 * ```
 */
export async function openStore(options: StoreOptions): Promise<StoreDriver> {
  const url = options.url?.trim();
  // loaded on demand: a process on SQLite never loads pg, and the other way round
  if (url && POSTGRES_URL.test(url)) return (await import('./postgres-driver.ts')).openPostgres(url);
  if (url) {
    const scheme = url.split(':', 1)[0];
    throw platformError('INVALID_CONFIG', `store url scheme '${scheme}:' is not supported; use postgres:// or give a SQLite file`);
  }
  if (!options.file) throw platformError('INVALID_CONFIG', 'a store needs a postgres:// url or a SQLite file');
  return (await import('./sqlite-driver.ts')).openSqlite(options.file, options.synchronous);
}
