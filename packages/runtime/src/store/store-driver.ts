import type { AnyDb } from 'carotene/model';

/** The engines a service's store can run on. */
export type StoreEngine = 'sqlite' | 'postgres';

/**
 * One service's database, open. The same interface for the embedded SQLite file and for
 * PostgreSQL in production, so everything above it (migrations, table handles, the
 * runtime) is written once and tested by one shared suite.
 */
export interface StoreDriver {
  readonly kind: StoreEngine;
  readonly db: AnyDb;
  /** Resolves when the database answers a query; throws UNAVAILABLE otherwise (for `/ready`). */
  ping(): Promise<void>;
  /** Connections of the pool, for metrics (PostgreSQL; SQLite has one connection and no pool). */
  poolStats?(): { total: number; idle: number; waiting: number };
  /** Closes every connection. Safe to call more than once. */
  close(): Promise<void>;
}
