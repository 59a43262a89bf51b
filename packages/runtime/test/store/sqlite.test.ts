import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sql } from 'kysely';
import { isCaroteneError } from '../../../carotene/src/errors.ts';
import { openStore } from '../../src/store/index.ts';
import { storeSuite } from './store-suite.ts';

const dir = await mkdtemp(join(tmpdir(), 'carotene-sqlite-'));
after(() => rm(dir, { recursive: true, force: true }));
// a folder that does not exist yet: the driver creates it
const file = join(dir, 'services', 'catalog', 'store.db');

storeSuite('sqlite', () => openStore({ file }));

test('the SQLite file is where it was asked, in WAL mode with foreign keys on', async () => {
  const store = await openStore({ file });
  try {
    assert.ok(existsSync(file), `${file} should exist`);
    const pragma = async (name: string) => Object.values((await sql.raw(`pragma ${name}`).execute(store.db)).rows[0] as object)[0];
    assert.equal(await pragma('journal_mode'), 'wal');
    assert.equal(await pragma('foreign_keys'), 1);
    assert.equal(await pragma('busy_timeout'), 5000);
    assert.equal(await pragma('synchronous'), 1, 'NORMAL: the log is synced at checkpoints');
  } finally {
    await store.close();
  }
  const full = await openStore({ file, synchronous: 'full' });
  try {
    assert.deepEqual(Object.values((await sql.raw('pragma synchronous').execute(full.db)).rows[0] as object), [2], 'FULL: every commit synced');
  } finally {
    await full.close();
  }
});

test('an in-memory store works and is private', async () => {
  const a = await openStore({ file: ':memory:' });
  const b = await openStore({ file: ':memory:' });
  try {
    await a.db.schema.createTable('t').addColumn('id', 'text').execute();
    assert.deepEqual(
      (await a.db.introspection.getTables()).map((t) => t.name),
      ['t'],
    );
    assert.deepEqual(await b.db.introspection.getTables(), []);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a store needs a postgres url or a file', async () => {
  await assert.rejects(openStore({}), (err) => isCaroteneError(err, 'INVALID_CONFIG') && /file/.test(err.message));
  await assert.rejects(openStore({ url: 'mysql://u:secret@h/db' }), (err) => {
    assert.ok(isCaroteneError(err, 'INVALID_CONFIG'));
    assert.match(err.message, /mysql:/);
    assert.doesNotMatch(err.message, /secret/);
    return true;
  });
});

test('a kept statement runs again with other values, also after it failed', async () => {
  const store = await openStore({ file: ':memory:' });
  try {
    await store.db.schema
      .createTable('t')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.unique())
      .execute();
    const insert = (id: number, name: string) => store.db.insertInto('t').values({ id, name }).execute();
    const byName = (name: string) => store.db.selectFrom('t').select('id').where('name', '=', name).execute();
    await insert(1, 'a');
    await insert(2, 'b');
    await assert.rejects(insert(3, 'a'), /UNIQUE/);
    await insert(3, 'c');
    assert.deepEqual(await byName('a'), [{ id: 1 }]);
    assert.deepEqual(await byName('c'), [{ id: 3 }]);
    assert.deepEqual(await byName('zzz'), []);
    await store.db.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ id: 4, name: 'd' }).execute();
      assert.deepEqual(await trx.selectFrom('t').select('id').where('name', '=', 'd').execute(), [{ id: 4 }]);
    });
  } finally {
    await store.close();
  }
});
