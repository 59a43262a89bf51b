// The start check's comparison of declared tables with what a database has, without a database.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { table } from '../../../carotene/src/declare/table.ts';
import { schemaMismatches, storesAs } from '../../src/store/schema-check.ts';
import { declaredSchema } from '../../src/store/schema-declared.ts';
import type { DatabaseTable } from '../../src/store/schema-introspect.ts';

const Orders = table('orders', {
  key: 'id',
  schema: z.object({ id: z.string(), status: z.string(), total: z.number().int(), reason: z.string().nullable() }),
  indexes: [{ columns: ['status'] }],
});
const declared = declaredSchema('orders', [Orders]);
const col = (name: string, sqlType: string, nullable = false) => ({ name, sqlType, nullable });
const matching: DatabaseTable = {
  name: 'orders',
  // SQLite reports a TEXT PRIMARY KEY as nullable; the key is not compared on that
  columns: [col('id', 'text', true), col('status', 'TEXT'), col('total', 'integer'), col('reason', 'TEXT', true)],
  primaryKey: ['id'],
  indexes: [{ name: 'hand_named', columns: ['status'], unique: false }],
};
const platform: DatabaseTable = { name: 'carotene_outbox', columns: [col('seq', 'INTEGER')], primaryKey: ['seq'], indexes: [] };

test('a database that has what is declared, under other index names and beside platform tables, matches', () => {
  assert.deepEqual(schemaMismatches(declared, [matching, platform], 'sqlite'), []);
});

test('every structural difference is named by table and column', () => {
  const drifted: DatabaseTable = {
    name: 'orders',
    columns: [col('id', 'TEXT'), col('total', 'REAL'), col('reason', 'TEXT'), col('legacy', 'TEXT', true)],
    primaryKey: ['total'],
    indexes: [{ name: 'orders_status', columns: ['status'], unique: true }],
  };
  const extra: DatabaseTable = { name: 'scratch', columns: [col('id', 'TEXT')], primaryKey: ['id'], indexes: [] };
  assert.deepEqual(schemaMismatches(declared, [drifted, extra], 'sqlite'), [
    'orders.status is declared but the database has no such column',
    'orders.total is declared as integer but the database has it as REAL',
    'orders.reason is declared nullable but the database has it NOT NULL',
    'orders.legacy is in the database but not declared',
    "orders's key is declared as (id) but the database has (total)",
    'index orders_status on orders (status) is declared but the database has no such index',
    'the database has index orders_status on orders unique (status), which is not declared',
    "table 'scratch' is in the database but not declared",
  ]);
  assert.deepEqual(schemaMismatches(declared, [], 'postgres'), ["table 'orders' is declared but the database has no such table"]);
});

test('column kinds accept the SQL types that store them on each engine', () => {
  assert.ok(storesAs('integer', 'BIGINT', 'sqlite'));
  assert.ok(storesAs('boolean', 'boolean', 'sqlite'), 'NUMERIC affinity holds 1/0');
  assert.ok(storesAs('text', 'varchar(255)', 'sqlite'));
  assert.ok(storesAs('real', 'DOUBLE PRECISION', 'sqlite'));
  assert.ok(!storesAs('integer', 'TEXT', 'sqlite'));
  assert.ok(!storesAs('real', 'INTEGER', 'sqlite'));
  assert.ok(storesAs('integer', 'integer', 'postgres'), 'a hand-written int4 column holds integers');
  assert.ok(storesAs('text', 'character varying', 'postgres'));
  assert.ok(!storesAs('boolean', 'integer', 'postgres'));
  assert.ok(!storesAs('text', 'jsonb', 'postgres'));
});
