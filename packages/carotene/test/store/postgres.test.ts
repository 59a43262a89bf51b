import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { isCaroteneError } from '../../src/errors.ts';
import { openStore, type StoreDriver } from '../../src/store/index.ts';
import { storeSuite } from './store-suite.ts';

// the server's own database for the run's housekeeping; each run gets a fresh database
// beside it, as each service gets its own in production
const adminUrl = process.env.CAROTENE_TEST_PG_URL ?? 'postgres://root@127.0.0.1:5432/test';

let admin: StoreDriver | undefined;
let unreachable: string | undefined;
try {
  admin = await openStore({ url: adminUrl });
} catch (err) {
  unreachable = (err as Error).message;
}

if (admin === undefined) {
  test('store on postgres', (t) => {
    // CI promises a PostgreSQL: its absence is a failure there, and a visible skip elsewhere
    if (process.env.CI === 'true') assert.fail(`CI=true but ${unreachable}`);
    t.skip(unreachable);
  });
} else {
  const server = admin;
  const database = `carotene_test_${randomBytes(6).toString('hex')}`;
  await sql`create database ${sql.id(database)}`.execute(server.db);
  after(async () => {
    await sql`drop database if exists ${sql.id(database)} with (force)`.execute(server.db);
    await server.close();
  });
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;

  storeSuite('postgres', () => openStore({ url: url.href }));

  test('the run has a database of its own', async () => {
    const store = await openStore({ url: url.href });
    try {
      const { rows } = await sql<{ name: string }>`select current_database() as name`.execute(store.db);
      assert.equal(rows[0]?.name, database);
    } finally {
      await store.close();
    }
  });
}

test('an unreachable PostgreSQL is UNAVAILABLE, quickly, naming the host but not the password', async () => {
  const started = Date.now();
  await assert.rejects(openStore({ url: 'postgres://carotene:s3cret-pw@127.0.0.1:1/orders' }), (err) => {
    assert.ok(isCaroteneError(err, 'UNAVAILABLE'), String(err));
    assert.equal(err.status, 503);
    assert.match(err.message, /127\.0\.0\.1:1\/orders/);
    assert.doesNotMatch(err.message, /s3cret-pw/);
    return true;
  });
  assert.ok(Date.now() - started < 3000, 'gave up too slowly');
});

test("int8 as numbers is the store's own setting, not pg's global one", () => {
  assert.equal(pg.types.getTypeParser(20, 'text')('42'), '42');
});
