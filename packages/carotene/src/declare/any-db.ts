import type { Kysely } from 'kysely';

/**
 * The tables of a database as Kysely sees them from outside any one handler: migrations shape
 * tables the row types may not describe yet, drivers serve whatever the migrations made, and
 * the platform's own tables (outbox, inbox, sagas) are in no service's row types. Table
 * handles type each row from its declared table instead.
 */
// biome-ignore lint/suspicious/noExplicitAny: the one place a database is untyped; see above
export type AnyTables = any;

/** A service's database, untyped (see {@link AnyTables}). */
export type AnyDb = Kysely<AnyTables>;
