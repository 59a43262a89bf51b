// How declared tables become a schema snapshot: the column kinds the table handles store.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { table } from '../../../carotene/src/declare/table.ts';
import { isCaroteneError } from '../../../carotene/src/errors.ts';
import { declaredSchema } from '../../src/store/schema-declared.ts';
import { parseSnapshot, renderSnapshot } from '../../src/store/schema-snapshot.ts';

const Status = z.enum(['PENDING', 'DONE']);
const Orders = table('orders', {
  key: 'id',
  schema: z.object({
    id: z.string(),
    qty: z.number().int().positive(),
    count: z.int(),
    price: z.number(),
    paid: z.boolean().default(false),
    status: Status.default('PENDING'),
    reason: z.string().nullable(),
    note: z.string().optional(),
    label: z.string().optional().default('none'),
    maybe: z.string().default('x').optional(),
    level: z.literal([1, 2, 3]),
    trimmed: z.string().pipe(z.string().min(1)),
  }),
  indexes: [{ columns: ['status'] }, { columns: ['reason', 'id'], unique: true, name: 'orders_reason' }],
});

test('zod columns become text, integer, real or boolean, NULL where optional or nullable, with constant defaults', () => {
  const [t] = declaredSchema('orders', [Orders]).tables;
  assert.deepEqual(t?.columns, [
    { name: 'id', type: 'text', nullable: false },
    { name: 'qty', type: 'integer', nullable: false },
    { name: 'count', type: 'integer', nullable: false },
    { name: 'price', type: 'real', nullable: false },
    { name: 'paid', type: 'boolean', nullable: false, default: false },
    { name: 'status', type: 'text', nullable: false, default: 'PENDING' },
    { name: 'reason', type: 'text', nullable: true },
    { name: 'note', type: 'text', nullable: true },
    { name: 'label', type: 'text', nullable: false, default: 'none' },
    { name: 'maybe', type: 'text', nullable: true, default: 'x' },
    { name: 'level', type: 'integer', nullable: false },
    { name: 'trimmed', type: 'text', nullable: false },
  ]);
  assert.equal(t?.key, 'id');
  assert.deepEqual(t?.indexes, [
    { name: 'orders_reason', columns: ['reason', 'id'], unique: true },
    { name: 'orders_status', columns: ['status'], unique: false },
  ]);
});

test('tables are sorted by name and the snapshot text is the same every time', () => {
  const A = table('a_first', { key: 'id', schema: z.object({ id: z.string() }) });
  const one = renderSnapshot(declaredSchema('orders', [Orders, A]));
  const two = renderSnapshot(declaredSchema('orders', [A, Orders]));
  assert.equal(one, two);
  assert.deepEqual(
    JSON.parse(one).tables.map((t: { name: string }) => t.name),
    ['a_first', 'orders'],
  );
  assert.deepEqual(parseSnapshot(one, 'x.json'), declaredSchema('orders', [A, Orders]));
});

test('a column the handles cannot store is INVALID_CONFIG naming table.column', () => {
  const cases: [string, z.ZodType][] = [
    ['an object', z.object({ a: z.number() })],
    ['an array', z.array(z.string())],
    ['a date', z.date()],
    ['a transform', z.string().transform(Number)],
    ['a union', z.union([z.string(), z.number()])],
  ];
  for (const [what, column] of cases) {
    const T = table('things', { key: 'id', schema: z.object({ id: z.string(), data: column }) });
    assert.throws(
      () => declaredSchema('svc', [T]),
      (err) => {
        assert.ok(isCaroteneError(err, 'INVALID_CONFIG'), `${what}: ${String(err)}`);
        assert.match(err.message, /things\.data is a /);
        return true;
      },
    );
  }
});

test('a default that changes at each read, or an optional key, is refused', () => {
  const Stamped = table('stamped', { key: 'id', schema: z.object({ id: z.string(), at: z.string().default(() => String(Math.random())) }) });
  assert.throws(
    () => declaredSchema('svc', [Stamped]),
    (err) => isCaroteneError(err, 'INVALID_CONFIG') && /stamped\.at has a default that is not a constant/.test(err.message),
  );
  const Loose = table('loose', { key: 'id', schema: z.object({ id: z.string().optional() }) });
  assert.throws(() => declaredSchema('svc', [Loose]), /loose\.id is the key/);
});

test('table() checks its indexes; two tables may not share an index name', () => {
  const schema = z.object({ id: z.string(), a: z.string() });
  // @ts-expect-error -- 'b' is not a column
  assert.throws(() => table('t', { key: 'id', schema, indexes: [{ columns: ['b'] }] }), /index column 'b' is not a column/);
  // @ts-expect-error -- an index needs a column
  assert.throws(() => table('t', { key: 'id', schema, indexes: [{ columns: [] }] }), /at least one column/);
  assert.throws(() => table('t', { key: 'id', schema, indexes: [{ columns: ['a'] }, { columns: ['a', 'id'], name: 't_a' }] }), /two indexes are named 't_a'/);
  assert.throws(() => table('t', { key: 'id', schema, indexes: [{ columns: ['a'], name: 'bad name' }] }), /must be a SQL identifier/);
  const One = table('one', { key: 'id', schema, indexes: [{ columns: ['a'], name: 'shared' }] });
  const Two = table('two', { key: 'id', schema, indexes: [{ columns: ['a'], name: 'shared' }] });
  assert.throws(
    () => declaredSchema('svc', [One, Two]),
    (err) => isCaroteneError(err, 'INVALID_CONFIG') && /'one' and 'two' both have an index named 'shared'/.test(err.message),
  );
});

test('a snapshot file that is not one is INVALID_CONFIG naming the file and the field', () => {
  assert.throws(() => parseSnapshot('{', 'm/0001_init.schema.json'), /m\/0001_init\.schema\.json is not JSON/);
  const bad = JSON.stringify({
    format: 'carotene-schema/1',
    service: 's',
    tables: [{ name: 't', key: 'id', columns: [{ name: 'id', type: 'json', nullable: false }], indexes: [] }],
  });
  assert.throws(
    () => parseSnapshot(bad, 'x.json'),
    (err) => isCaroteneError(err, 'INVALID_CONFIG') && /at tables\.0\.columns\.0\.type/.test(err.message),
  );
});
