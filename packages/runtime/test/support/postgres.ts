import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { sql } from 'kysely';
import { openStore, type StoreDriver } from '../../src/store/driver.ts';

/** The server's own database, for a run's housekeeping; tests make fresh databases beside it. */
export const adminUrl = process.env.CAROTENE_TEST_PG_URL ?? 'postgres://root@127.0.0.1:5432/test';

/** The admin connection, or the reason there is none. */
export async function connectAdmin(): Promise<{ admin: StoreDriver } | { unreachable: string }> {
  try {
    return { admin: await openStore({ url: adminUrl }) };
  } catch (err) {
    return { unreachable: (err as Error).message };
  }
}

/** URL of another database on the same server. */
export function databaseUrl(database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.href;
}

/**
 * Databases of this test file on the admin's server: each is created on first use (a
 * restarted service opens the same one again) and every one is dropped, and the admin
 * connection closed, when the file's tests end. Resolves with the database's URL.
 */
export function scratchDatabases(admin: StoreDriver): (database: string) => Promise<string> {
  const created = new Set<string>();
  after(async () => {
    for (const db of created) await sql`drop database if exists ${sql.id(db)} with (force)`.execute(admin.db);
    await admin.close();
  });
  return async (database) => {
    if (!created.has(database)) {
      await sql`create database ${sql.id(database)}`.execute(admin.db);
      created.add(database);
    }
    return databaseUrl(database);
  };
}

/**
 * Stands in for the tests a missing server prevents: under CI=true, which promises the
 * server, a failure; elsewhere a visible skip that says why.
 */
export function missingServer(name: string, why: string): void {
  test(name, (t) => {
    if (process.env.CI === 'true') assert.fail(`CI=true but ${why}`);
    t.skip(why);
  });
}
