import { loadEngine, platformError, type Log } from 'carotene/model';
import type { StoreDriver } from './store-driver.ts';

export type { StoreDriver, StoreEngine } from './store-driver.ts';

export interface StoreOptions {
  /** `postgres://` or `postgresql://` URL of the service's own database. */
  readonly url?: string;
  /** SQLite file (its folder is created), or `':memory:'`; used when `url` is not PostgreSQL. */
  readonly file?: string;
  /** When a SQLite commit reaches the disk (default `normal`; see `SqliteSynchronous`). */
  readonly synchronous?: 'normal' | 'full';
}

/** What `@carotene/postgres` provides the runtime (its store driver and the outbox's wake-ups). */
export interface PostgresEngine {
  openPostgres(url: string): Promise<StoreDriver>;
  listen(url: string, channel: string, onNotify: () => void, log: Log): { close(): Promise<void> };
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
  if (url && POSTGRES_URL.test(url)) return (await loadEngine<PostgresEngine>('@carotene/postgres', 'a postgres:// database URL')).openPostgres(url);
  if (url) {
    const scheme = url.split(':', 1)[0];
    throw platformError('INVALID_CONFIG', `store url scheme '${scheme}:' is not supported; use postgres:// or give a SQLite file`);
  }
  if (!options.file) throw platformError('INVALID_CONFIG', 'a store needs a postgres:// url or a SQLite file');
  return (await import('./sqlite-driver.ts')).openSqlite(options.file, options.synchronous);
}
