import type { Kysely } from 'kysely';

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
