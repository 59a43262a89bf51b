import type { AnyDb } from 'carotene/model';
import { sql } from 'kysely';
import { LEASES } from './platform-tables.ts';

/** Makes sure the lease row exists (once per name and process). */
export async function ensureLease(db: AnyDb, name: string): Promise<void> {
  await db
    .insertInto(LEASES)
    .values({ name })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}

/**
 * On PostgreSQL, takes the named lease for the rest of `trx`, or returns false when another
 * replica holds it (FOR UPDATE SKIP LOCKED: nobody waits). Replicas of one service so take
 * turns per destination, and delivery order is kept.
 */
export async function takeLease(trx: AnyDb, name: string): Promise<boolean> {
  const { rows } = await sql<{ name: string }>`select name from ${sql.table(LEASES)} where name = ${name} for update skip locked`.execute(trx);
  return rows.length > 0;
}
