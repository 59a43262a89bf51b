// One suite for both engines: generated migrations run on a real database, and a service
// starts only when its database has the tables it declares.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { z } from 'zod';
import { app, contract, handler, implement, rpc, table, type Migration, type Table } from '../../../carotene/src/index.ts';
import { isCaroteneError } from '../../../carotene/src/errors.ts';
import { createLogger } from '../../src/service/logger.ts';
import { startServiceHost, type HostOptions, type ServiceHost } from '../../src/service/service-host.ts';
import { migrate, TableHandle, type StoreDriver, type StoreEngine } from '../../src/store/index.ts';
import { checkSchema } from '../../src/store/schema-check.ts';
import { schemaChanges } from '../../src/store/schema-changes.ts';
import { declaredSchema } from '../../src/store/schema-declared.ts';
import { emptySnapshot, type SchemaSnapshot } from '../../src/store/schema-snapshot.ts';
import { schemaSql } from '../../src/store/schema-sql.ts';
import { HttpTransport } from '../../src/transport/http-transport.ts';
import type { Registry } from '../../src/transport/transport.ts';
import { testPki, type TestPki } from '../fixtures/certs.ts';

/** A database of its own per test: how a service host and the test itself reach it. */
export interface TestDatabase {
  readonly database: HostOptions['database'];
  open(): Promise<StoreDriver>;
}

const base = { id: z.string(), userId: z.string(), total: z.number().int(), price: z.number(), paid: z.boolean().default(false) };
const OrdersV1 = table('orders', {
  key: 'id',
  schema: z.object({ ...base, note: z.string().nullable().optional() }),
  indexes: [{ columns: ['userId'] }, { columns: ['userId', 'total'], unique: true }],
});
const Legacy = table('legacy', { key: 'id', schema: z.object({ id: z.number().int(), v: z.string() }) });
const v2 = { ...base, status: z.enum(['NEW', 'DONE']).default('NEW') };
const v2Indexes = [{ columns: ['status'] }, { columns: ['userId', 'total'], unique: true }] as const;
const OrdersV2 = table('orders', { key: 'id', schema: z.object(v2), indexes: v2Indexes });
const Items = table('order_items', {
  key: 'id',
  schema: z.object({ id: z.string(), orderId: z.string(), qty: z.number().int() }),
  indexes: [{ columns: ['orderId'] }],
});
// v2 again, with a column no migration added
const OrdersV3 = table('orders', { key: 'id', schema: z.object({ ...v2, reason: z.string().nullable() }), indexes: v2Indexes });

const snap = (...tables: Table[]) => declaredSchema('orders', tables);
const generated = (from: SchemaSnapshot, to: SchemaSnapshot): Migration => {
  const changes = schemaChanges(from, to);
  return { sqlite: schemaSql(changes, 'sqlite'), postgres: schemaSql(changes, 'postgres') };
};
const m1 = generated(emptySnapshot('orders'), snap(OrdersV1, Legacy));
// hand-written, between the generated ones: a data change passes the check
const backfill: Migration = {
  async up(db) {
    await db
      .updateTable('orders')
      .set((eb) => ({ total: eb('total', '*', 10) }))
      .execute();
  },
};
const m3 = generated(snap(OrdersV1, Legacy), snap(OrdersV2, Items));
const history = { '0001_init': m1, '0002_backfill': backfill, '0003_schema': m3 };

const mismatch =
  (...patterns: RegExp[]) =>
  (err: unknown) => {
    assert.ok(isCaroteneError(err, 'SCHEMA_MISMATCH'), `expected SCHEMA_MISMATCH, got ${inspect(err)}`);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  };

/** Expects the start to fail; a host that starts anyway is closed, so the failure is reported rather than hanging the run. */
async function refuses(starting: Promise<ServiceHost>, check: (err: unknown) => boolean): Promise<void> {
  const failure = await starting.then(
    async (host) => {
      await host.close();
      return undefined;
    },
    (err: unknown) => err ?? new Error('rejected without a reason'),
  );
  assert.ok(failure !== undefined, 'the service started, but it should have refused');
  check(failure);
}

function serviceOf(orders: Table, migrations: Record<string, Migration>) {
  const Orders = contract('orders', { count: rpc({ input: z.object({}), output: z.number() }) });
  return implement(Orders, { stores: [orders, Items], migrations }).handlers({
    count: handler({}, async () => 0),
  });
}

export function schemaSuite(engine: StoreEngine, database: (name: string) => Promise<TestDatabase>): void {
  describe(`generated migrations and the start check on ${engine}`, () => {
    let pki: TestPki;
    before(async () => {
      pki = await testPki('schema', ['orders']);
    });
    after(() => rmSync(pki.dataDir, { recursive: true, force: true }));

    const start = (db: TestDatabase, orders: Table, migrations: Record<string, Migration>) => {
      const tls = pki.credentials('orders');
      const registry: Registry = { app: 'schema', gateway: { url: 'http://127.0.0.1:1' }, services: {} };
      return startServiceHost({
        app: app({ name: 'schema', services: [serviceOf(orders, migrations)] }),
        service: 'orders',
        host: '127.0.0.1',
        port: 0,
        database: db.database,
        transport: new HttpTransport({ caller: 'orders', registry, tls }),
        tls,
        log: createLogger('test', 'silent'),
      });
    };

    test('generated migrations create and then change the tables; rows keep their values and the handles read them back', async () => {
      const db = await database('changes');
      const store = await db.open();
      try {
        await migrate(store.db, { '0001_init': m1 }, 'orders');
        await checkSchema(store.db, engine, 'orders', [OrdersV1, Legacy]);
        const v1 = new TableHandle(store.db, OrdersV1, 'write', 'orders.test', engine);
        const row = { id: 'o1', userId: 'u1', total: 3, price: 2.5, paid: true, note: null };
        assert.deepEqual(await v1.insert(row), row);
        assert.deepEqual(await v1.get('o1'), row);
        await v1.insert({ id: 'o2', userId: 'u1', total: 4, price: 1 });
        await assert.rejects(v1.insert({ id: 'o3', userId: 'u1', total: 4, price: 1 }), (err) => isCaroteneError(err, 'CONFLICT'));

        assert.deepEqual(await migrate(store.db, history, 'orders'), ['0002_backfill', '0003_schema']);
        await checkSchema(store.db, engine, 'orders', [OrdersV2, Items]);
        const orders = new TableHandle(store.db, OrdersV2, 'write', 'orders.test', engine);
        assert.deepEqual(await orders.get('o1'), { id: 'o1', userId: 'u1', total: 30, price: 2.5, paid: true, status: 'NEW' });
        assert.deepEqual(await orders.get('o2'), { id: 'o2', userId: 'u1', total: 40, price: 1, paid: false, status: 'NEW' });
        await new TableHandle(store.db, Items, 'write', 'orders.test', engine).insert({ id: 'i1', orderId: 'o1', qty: 2 });
        // the old declaration no longer fits, and the check says where
        await assert.rejects(
          checkSchema(store.db, engine, 'orders', [OrdersV1, Legacy]),
          mismatch(/orders\.note is declared but the database has no such column/, /table 'legacy' is declared but the database has no such table/),
        );
      } finally {
        await store.close();
      }
    });

    test('a service starts on its generated migrations, and refuses when a declaration changed without one', async () => {
      const db = await database('start');
      const host = await start(db, OrdersV2, history);
      await host.close();
      await refuses(
        start(db, OrdersV3, history),
        mismatch(/service 'orders' refuses to start/, /orders\.reason is declared but the database has no such column; run `carrot migrations make orders`/),
      );
    });

    test('a hand-written migration that differs from the declaration is refused, naming table and column', async () => {
      const db = await database('drift');
      const handWritten: Record<string, Migration> = {
        '0001_init': {
          async up(db) {
            await db.schema
              .createTable('orders')
              .addColumn('id', 'text', (c) => c.primaryKey())
              .addColumn('userId', 'text', (c) => c.notNull())
              .addColumn('total', 'text', (c) => c.notNull())
              .addColumn('price', 'real')
              .addColumn('paid', 'boolean', (c) => c.notNull())
              .addColumn('status', 'text', (c) => c.notNull())
              .execute();
            await db.schema.createIndex('orders_userId_total_unique').unique().on('orders').columns(['userId', 'total']).execute();
            await db.schema
              .createTable('order_items')
              .addColumn('id', 'text', (c) => c.primaryKey())
              .addColumn('orderId', 'text', (c) => c.notNull())
              .addColumn('qty', 'integer', (c) => c.notNull())
              .execute();
          },
        },
      };
      await refuses(
        start(db, OrdersV2, handWritten),
        mismatch(
          /orders\.total is declared as integer but the database has it as text/i,
          /orders\.price is declared NOT NULL but the database has it nullable/,
          /index orders_status on orders \(status\) is declared but the database has no such index/,
          /index order_items_orderId on order_items \(orderId\) is declared/,
        ),
      );
    });
  });
}
