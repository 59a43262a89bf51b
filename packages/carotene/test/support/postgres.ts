import assert from 'node:assert/strict';
import { test } from 'node:test';
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
 * Stands in for the tests a missing server prevents: under CI=true, which promises the
 * server, a failure; elsewhere a visible skip that says why.
 */
export function missingServer(name: string, why: string): void {
  test(name, (t) => {
    if (process.env.CI === 'true') assert.fail(`CI=true but ${why}`);
    t.skip(why);
  });
}
