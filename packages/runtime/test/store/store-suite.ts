// One suite for every store engine: the embedded SQLite file and PostgreSQL must behave alike.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Migration } from '../../../carotene/src/declare/service.ts';
import { table } from '../../../carotene/src/declare/table.ts';
import { isCaroteneError } from '../../../carotene/src/errors.ts';
import { createStoreAccess, fullAccess, migrate, pendingMigrations, TableHandle, type StoreDriver, type StoreEngine } from '../../src/store/index.ts';

export const Product = table('products', {
  key: 'id',
  schema: z.object({
    id: z.string(),
    name: z.string().min(1),
    price: z.number().int().nonnegative(),
    active: z.boolean().default(true),
    sku: z.string(),
    note: z.string().nullable().optional(),
  }),
});
export const Stock = table('stock', { key: 'itemId', schema: z.object({ itemId: z.string(), count: z.number().int() }) });
const tables = [Product, Stock] as const;

export const baseMigrations: Record<string, Migration> = {
  '0001_products': {
    up: (db) =>
      db.schema
        .createTable('products')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('price', 'integer', (c) => c.notNull())
        .addColumn('active', 'boolean', (c) => c.notNull())
        .addColumn('sku', 'text', (c) => c.notNull().unique())
        .addColumn('note', 'text')
        .execute(),
  },
  // bigint on purpose: PostgreSQL's int8 must still come back as a number
  '0002_stock': {
    up: (db) =>
      db.schema
        .createTable('stock')
        .addColumn('itemId', 'text', (c) => c.primaryKey())
        .addColumn('count', 'bigint', (c) => c.notNull())
        .execute(),
  },
};
const auditMigration: Record<string, Migration> = {
  '0003_audit': {
    up: (db) =>
      db.schema
        .createTable('audit')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .execute(),
  },
};

const hasCode =
  (code: string, ...patterns: RegExp[]) =>
  (err: unknown) => {
    assert.ok(isCaroteneError(err, code), `expected ${code}, got ${inspect(err)}`);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  };

const product = (id: string, extra: Partial<z.input<typeof Product.schema>> = {}) => ({
  id,
  name: `Widget ${id}`,
  price: 100,
  sku: `sku-${id}`,
  ...extra,
});

export function storeSuite(engine: StoreEngine, open: () => Promise<StoreDriver>): void {
  describe(`store on ${engine}`, () => {
    let store: StoreDriver;
    let pendingAtStart: string[];
    let appliedAtStart: string[];
    const writer = () => new TableHandle(store.db, Product, 'write', 'catalog.test', engine);
    const clear = async () => {
      await store.db.deleteFrom('products').execute();
      await store.db.deleteFrom('stock').execute();
    };

    before(async () => {
      store = await open();
      assert.equal(store.kind, engine);
      pendingAtStart = await pendingMigrations(store.db, baseMigrations);
      appliedAtStart = await migrate(store.db, baseMigrations, 'catalog');
    });
    after(() => store.close());

    test('migrations run once, in order, and only new ones later', async () => {
      assert.deepEqual(pendingAtStart, ['0001_products', '0002_stock']);
      assert.deepEqual(appliedAtStart, ['0001_products', '0002_stock']);
      assert.deepEqual(await migrate(store.db, baseMigrations, 'catalog'), []);
      const grown = { ...baseMigrations, ...auditMigration };
      assert.deepEqual(await pendingMigrations(store.db, grown), ['0003_audit']);
      assert.deepEqual(await migrate(store.db, grown, 'catalog'), ['0003_audit']);
      assert.deepEqual(await pendingMigrations(store.db, grown), []);
      const recorded = await store.db.selectFrom('carotene_migrations').select('name').orderBy('name').execute();
      assert.deepEqual(
        recorded.map((r) => r.name),
        ['0001_products', '0002_stock', '0003_audit'],
      );
    });

    test('a failing migration is named, rolled back and left pending', async () => {
      const broken: Record<string, Migration> = {
        ...baseMigrations,
        ...auditMigration,
        '0004_broken': {
          up: async (db) => {
            await db.schema.createTable('half_made').addColumn('id', 'text').execute();
            throw new Error('boom');
          },
        },
      };
      await assert.rejects(migrate(store.db, broken, 'catalog'), hasCode('INVALID_CONFIG', /catalog/, /0004_broken/, /boom/));
      assert.deepEqual(await pendingMigrations(store.db, broken), ['0004_broken']);
      const names = (await store.db.introspection.getTables()).map((t) => t.name);
      assert.ok(!names.includes('half_made'), 'the failed migration left a table behind');
    });

    test('insert, get, update and delete through a write handle', async () => {
      await clear();
      const products = writer();
      const inserted = await products.insert(product('p1', { active: false }));
      assert.deepEqual({ ...inserted }, { id: 'p1', name: 'Widget p1', price: 100, active: false, sku: 'sku-p1', note: null });
      assert.deepEqual(await products.get('p1'), inserted);
      const updated = await products.update('p1', { price: 250 });
      assert.equal(updated?.price, 250);
      assert.equal(updated?.active, false, 'a patch must not reset columns to their schema defaults');
      assert.equal(updated?.id, 'p1');
      assert.equal(await products.update('nope', { price: 1 }), undefined);
      await assert.rejects(products.update('p1', { id: 'p2' }), hasCode('INVALID_ROW', /key/, /products/));
      await assert.rejects(products.update('p1', { price: -5 }), hasCode('INVALID_ROW', /products/, /price/));
      assert.equal((await products.get('p1'))?.price, 250);
      assert.equal(await products.delete('p1'), true);
      assert.equal(await products.delete('p1'), false);
      assert.equal(await products.get('p1'), undefined);
    });

    test('find filters, orders and limits', async () => {
      await clear();
      const products = writer();
      await products.insert(product('a', { price: 300 }));
      await products.insert(product('b', { price: 100, active: false }));
      await products.insert(product('c', { price: 200 }));
      await products.insert(product('d', { price: 200, note: 'n' }));
      assert.deepEqual(
        (await products.find()).map((p) => p.id),
        ['a', 'b', 'c', 'd'],
      );
      assert.deepEqual(
        (await products.find({ active: true })).map((p) => p.id),
        ['a', 'c', 'd'],
      );
      assert.deepEqual(
        (await products.find({ active: true }, { orderBy: 'price', direction: 'desc', limit: 2 })).map((p) => p.id),
        ['a', 'd'],
      );
      assert.deepEqual(
        (await products.find({}, { orderBy: 'price' })).map((p) => p.id),
        ['b', 'c', 'd', 'a'],
      );
      assert.deepEqual(
        (await products.find({ note: null })).map((p) => p.id),
        ['a', 'b', 'c'],
      );
      assert.deepEqual(
        (await products.find({ price: 200, active: true }, { limit: 1 })).map((p) => p.id),
        ['c'],
      );
    });

    test('query() filters with LIKE and pages by key', async () => {
      await clear();
      const products = writer();
      for (const id of ['k1', 'k2', 'k3', 'k4', 'k5']) await products.insert(product(id));
      await products.insert(product('z1', { name: 'Gadget z1' }));
      const page = (after: string) => products.query().where('name', 'like', 'Widget%').where('id', '>', after).orderBy('id').limit(2).execute();
      const first = await page('');
      assert.deepEqual(
        first.map((p) => p.id),
        ['k1', 'k2'],
      );
      assert.equal(typeof first[0]?.active, 'boolean');
      const second = await page(first.at(-1)!.id);
      assert.deepEqual(
        second.map((p) => p.id),
        ['k3', 'k4'],
      );
      assert.deepEqual(
        (await page(second.at(-1)!.id)).map((p) => p.id),
        ['k5'],
      );
      const counted = await sql<{ n: number }>`select count(*) as n from products`.execute(store.db);
      assert.equal(counted.rows[0]?.n, 6, 'count(*) comes back as a number');
    });

    test('modify() decrements conditionally under 50 concurrent callers', async () => {
      await clear();
      await new TableHandle(store.db, Stock, 'write', 'inventory.seed', engine).insert({ itemId: 'i1', count: 25 });
      const reserve = async () => {
        const s = createStoreAccess(store.db, tables, { updates: [Stock] }, 'inventory.reserveStock', engine);
        const r = await s.stock
          .modify()
          .set((eb) => ({ count: eb('count', '-', 2) }))
          .where('itemId', '=', 'i1')
          .where('count', '>=', 2)
          .executeTakeFirst();
        return r.numUpdatedRows === 1n;
      };
      const outcomes = await Promise.all(Array.from({ length: 50 }, reserve));
      assert.equal(outcomes.filter(Boolean).length, 12);
      const left = await new TableHandle(store.db, Stock, 'read', 'inventory.check', engine).get('i1');
      assert.equal(left?.count, 1);
      assert.equal(typeof left?.count, 'number');
    });

    test('a transaction that throws rolls back both writes', async () => {
      await clear();
      const write = (id: string, fail: boolean) =>
        store.db.transaction().execute(async (trx) => {
          const s = fullAccess(trx, tables, 'orders.checkout', engine);
          await s.products.insert(product(id));
          await s.stock.insert({ itemId: id, count: 1 });
          if (fail) throw new Error('payment declined');
        });
      await assert.rejects(write('t1', true), /payment declined/);
      assert.equal(await writer().get('t1'), undefined);
      assert.equal(await new TableHandle(store.db, Stock, 'read', 'x.y', engine).get('t1'), undefined);
      await write('t2', false);
      assert.equal((await writer().get('t2'))?.id, 't2');
      assert.equal((await new TableHandle(store.db, Stock, 'read', 'x.y', engine).get('t2'))?.count, 1);
    });

    test('a unique violation is a CONFLICT naming the table', async () => {
      await clear();
      const products = writer();
      await products.insert(product('u1'));
      await products.insert(product('u2'));
      const conflict = hasCode('CONFLICT', /products/, /catalog\.test/);
      await assert.rejects(products.insert(product('u1', { sku: 'other' })), (err) => conflict(err) && (err as { status: number }).status === 409);
      await assert.rejects(products.insert(product('u3', { sku: 'sku-u1' })), conflict);
      await assert.rejects(products.update('u2', { sku: 'sku-u1' }), conflict);
      assert.equal((await products.get('u2'))?.sku, 'sku-u2');
    });

    test('an invalid row is INVALID_ROW naming the table and the issues', async () => {
      await clear();
      const bad = { id: 'v1', name: '', price: 'cheap', sku: 's' } as unknown as z.input<typeof Product.schema>;
      await assert.rejects(writer().insert(bad), (err) => {
        hasCode('INVALID_ROW', /products/, /name/, /price/)(err);
        assert.equal((err as { details: { issues: unknown[] } }).details.issues.length, 2);
        return true;
      });
      assert.equal(await writer().get('v1'), undefined);
    });

    test('a read handle refuses every write with PERMISSION_DENIED', async () => {
      await clear();
      await writer().insert(product('r1'));
      const reader = new TableHandle(store.db, Product, 'read', 'catalog.listProducts', engine);
      const denied = hasCode('PERMISSION_DENIED', /^catalog\.listProducts may only read 'products'; declare it in updates to write it$/);
      await assert.rejects(reader.insert(product('r2')), denied);
      await assert.rejects(reader.update('r1', { price: 1 }), denied);
      await assert.rejects(reader.delete('r1'), denied);
      assert.throws(() => reader.modify(), denied);
      assert.equal((await reader.get('r1'))?.price, 100);
      assert.equal(await writer().get('r2'), undefined);
    });

    test('ctx.store holds only the declared tables', async () => {
      await clear();
      await writer().insert(product('s1'));
      const s = createStoreAccess(store.db, tables, { reads: [Product] }, 'catalog.listProducts', engine);
      assert.equal((await s.products.find()).length, 1);
      // @ts-expect-error a read handle has no insert
      await assert.rejects(s.products.insert(product('s2')), hasCode('PERMISSION_DENIED'));
      // @ts-expect-error stock was not declared
      assert.throws(() => s.stock, hasCode('PERMISSION_DENIED', /catalog\.listProducts/, /'stock'/, /reads/));
      // @ts-expect-error users belongs to another service
      assert.throws(() => s.users, hasCode('PERMISSION_DENIED', /catalog\.listProducts/, /'users'/, /contract/));
      // awaiting, logging and serialising it must not throw
      assert.equal(await s, s);
      assert.match(inspect(s), /products/);
      assert.deepEqual(JSON.parse(JSON.stringify(s)), { products: { table: 'products', mode: 'read', owner: 'catalog.listProducts' } });
      assert.equal(typeof String(s), 'string');
      const w = createStoreAccess(store.db, tables, { reads: [Stock], updates: [Product] }, 'catalog.addProduct', engine);
      assert.equal((await w.products.insert(product('s3'))).id, 's3');
      assert.equal((await w.stock.find()).length, 0);
    });

    test('booleans round-trip', async () => {
      await clear();
      const products = writer();
      await products.insert(product('b1', { active: false }));
      await products.insert(product('b2'));
      assert.strictEqual((await products.get('b1'))?.active, false);
      assert.strictEqual((await products.get('b2'))?.active, true);
      assert.deepEqual(
        (await products.find({ active: false })).map((p) => p.id),
        ['b1'],
      );
      await products.modify().set({ active: true }).where('id', '=', 'b1').execute();
      assert.strictEqual((await products.update('b2', { active: false }))?.active, false);
      const rows = await products.query().where('active', '=', true).execute();
      assert.deepEqual(
        rows.map((p) => [p.id, p.active]),
        [['b1', true]],
      );
      const raw = await sql<{ active: unknown }>`select active from products where id = ${'b1'}`.execute(store.db);
      assert.equal(raw.rows[0]?.active, engine === 'sqlite' ? 1 : true, 'stored as the engine stores booleans');
    });

    test('ping answers and close closes', async () => {
      await store.ping();
      const other = await open();
      await other.ping();
      await other.close();
      await other.close(); // twice is fine
      await assert.rejects(other.ping(), hasCode('UNAVAILABLE'));
    });
  });
}
