// The difference between two snapshots and the SQL of it, per engine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { table } from '../../../carotene/src/declare/table.ts';
import { isCaroteneError } from '../../../carotene/src/errors.ts';
import { changesSlug, schemaChanges } from '../../src/store/schema-changes.ts';
import { declaredSchema } from '../../src/store/schema-declared.ts';
import { emptySnapshot } from '../../src/store/schema-snapshot.ts';
import { schemaSql } from '../../src/store/schema-sql.ts';

const v1 = table('orders', {
  key: 'id',
  schema: z.object({ id: z.string(), userId: z.string(), total: z.number().int(), note: z.string().nullable(), paid: z.boolean().default(false) }),
  indexes: [{ columns: ['userId'] }],
});
const Legacy = table('legacy', { key: 'id', schema: z.object({ id: z.number().int() }) });
const snap = (...tables: Parameters<typeof declaredSchema>[1]) => declaredSchema('orders', tables);

test('a new table is created with its key, columns and indexes on both engines', () => {
  const changes = schemaChanges(emptySnapshot('orders'), snap(v1));
  assert.deepEqual(
    changes.map((c) => c.kind),
    ['createTable'],
  );
  assert.equal(changesSlug(changes), 'create_orders');
  assert.deepEqual(schemaSql(changes, 'sqlite'), [
    'CREATE TABLE "orders" (\n  "id" TEXT NOT NULL PRIMARY KEY,\n  "userId" TEXT NOT NULL,\n  "total" INTEGER NOT NULL,\n  "note" TEXT,\n  "paid" INTEGER NOT NULL DEFAULT 0\n)',
    'CREATE INDEX "orders_userId" ON "orders" ("userId")',
  ]);
  assert.deepEqual(schemaSql(changes, 'postgres'), [
    'CREATE TABLE "orders" (\n  "id" TEXT NOT NULL PRIMARY KEY,\n  "userId" TEXT NOT NULL,\n  "total" BIGINT NOT NULL,\n  "note" TEXT,\n  "paid" BOOLEAN NOT NULL DEFAULT FALSE\n)',
    'CREATE INDEX "orders_userId" ON "orders" ("userId")',
  ]);
});

test('the same snapshots give no changes', () => {
  assert.deepEqual(schemaChanges(snap(v1, Legacy), snap(Legacy, v1)), []);
});

test('columns and indexes added and dropped, and a table dropped, in a safe order', () => {
  const v2 = table('orders', {
    key: 'id',
    schema: z.object({
      id: z.string(),
      userId: z.string(),
      total: z.number().int(),
      paid: z.boolean().default(false),
      status: z.enum(['NEW', 'DONE']).default('NEW'),
      rating: z.number().optional(),
      code: z.string().default("it's"),
    }),
    indexes: [
      { columns: ['userId', 'status'], name: 'orders_userId' },
      { columns: ['code'], unique: true },
    ],
  });
  const changes = schemaChanges(snap(v1, Legacy), snap(v2));
  assert.deepEqual(
    changes.map(
      (c) =>
        `${c.kind} ${'column' in c ? (typeof c.column === 'string' ? c.column : c.column.name) : 'index' in c ? (typeof c.index === 'string' ? c.index : c.index.name) : typeof c.table === 'string' ? c.table : c.table.name}`,
    ),
    [
      'dropTable legacy',
      'dropIndex orders_userId',
      'dropColumn note',
      'addColumn status',
      'addColumn rating',
      'addColumn code',
      'createIndex orders_code_unique',
      'createIndex orders_userId',
    ],
  );
  assert.equal(changesSlug(changes), 'schema');
  assert.deepEqual(schemaSql(changes, 'postgres'), [
    'DROP TABLE "legacy"',
    'DROP INDEX "orders_userId"',
    'ALTER TABLE "orders" DROP COLUMN "note"',
    `ALTER TABLE "orders" ADD COLUMN "status" TEXT NOT NULL DEFAULT 'NEW'`,
    'ALTER TABLE "orders" ADD COLUMN "rating" DOUBLE PRECISION',
    `ALTER TABLE "orders" ADD COLUMN "code" TEXT NOT NULL DEFAULT 'it''s'`,
    'CREATE UNIQUE INDEX "orders_code_unique" ON "orders" ("code")',
    'CREATE INDEX "orders_userId" ON "orders" ("userId", "status")',
  ]);
  assert.equal(schemaSql(changes, 'sqlite')[4], 'ALTER TABLE "orders" ADD COLUMN "rating" REAL');
});

test('one change names the migration after it', () => {
  const v2 = table('orders', { key: 'id', schema: v1.schema.extend({ status: z.string().nullable() }), indexes: [{ columns: ['userId'] }] });
  assert.equal(changesSlug(schemaChanges(snap(v1), snap(v2))), 'add_orders_status');
});

test('a change a generated migration cannot make is UNSAFE_SCHEMA_CHANGE saying to write it by hand', () => {
  const cases: [string, z.ZodObject, string, RegExp][] = [
    ['type', v1.schema.extend({ total: z.number() }), 'id', /orders\.total changes type from integer to real/],
    ['nullability', v1.schema.extend({ userId: z.string().nullable() }), 'id', /orders\.userId changes from required to nullable/],
    ['key', v1.schema, 'userId', /orders's key changes from 'id' to 'userId'/],
    ['required column', v1.schema.extend({ status: z.string() }), 'id', /orders\.status is added as required with no default/],
  ];
  for (const [what, schema, key, message] of cases) {
    const next = table('orders', { key: key as 'id', schema: schema as typeof v1.schema });
    assert.throws(
      () => schemaChanges(snap(v1), snap(next)),
      (err) => {
        assert.ok(isCaroteneError(err, 'UNSAFE_SCHEMA_CHANGE'), `${what}: ${String(err)}`);
        assert.match(err.message, message);
        assert.match(err.message, /hand-written migration/);
        return true;
      },
    );
  }
});
