import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { isCaroteneError } from '../../carotene/src/errors.ts';
import { openStore } from '../../runtime/src/store/index.ts';
import { connectAdmin, databaseUrl, missingServer } from '../../runtime/test/support/postgres.ts';
import { storeSuite } from '../../runtime/test/store/store-suite.ts';

const server = await connectAdmin();

if ('unreachable' in server) {
  missingServer('store on postgres', server.unreachable);
} else {
  const { admin } = server;
  const database = `carotene_test_${randomBytes(6).toString('hex')}`;
  await sql`create database ${sql.id(database)}`.execute(admin.db);
  after(async () => {
    await sql`drop database if exists ${sql.id(database)} with (force)`.execute(admin.db);
    await admin.close();
  });
  const url = new URL(databaseUrl(database));

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
