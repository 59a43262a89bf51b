// `carrot migrations make` on a fixture app whose table changes between runs; the migrations
// it writes then run on a real SQLite file under a real service host.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { inspect } from 'node:util';
import type { Migration } from '../../../carotene/src/index.ts';
import { app } from '../../../carotene/src/index.ts';
import { migrationsDir } from '../../src/cli/migration-folder.ts';
import { isCaroteneError } from '../../../carotene/src/errors.ts';
import { createLogger } from '../../../runtime/src/service/logger.ts';
import { startServiceHost } from '../../../runtime/src/service/service-host.ts';
import { HttpTransport } from '../../../runtime/src/transport/http-transport.ts';
import { migrate, openStore } from '../../../runtime/src/store/index.ts';
import { checkSchema } from '../../../runtime/src/store/schema-check.ts';
import { testPki } from '../../../runtime/test/fixtures/certs.ts';
import { ordersService } from './fixtures/migrations-app/app.ts';
import { versions, type Version } from './fixtures/migrations-app/tables.ts';
import { CARROT, tempDir } from './helpers.ts';

const APP = fileURLToPath(new URL('./fixtures/migrations-app', import.meta.url));
const dir = tempDir();
const migrations = join(dir, 'migrations');
after(() => rmSync(dir, { recursive: true, force: true }));

function make(version: Version, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, FIXTURE_ORDERS: version };
    const into = args.includes('--dir') ? [] : ['--dir', migrations];
    execFile(process.execPath, [CARROT, 'migrations', 'make', 'orders', APP, ...into, ...args], { env, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

const files = () => readdirSync(migrations).sort();
const read = (name: string) => readFileSync(join(migrations, name), 'utf8');
const contents = () => Object.fromEntries(files().map((f) => [f, read(f)]));

test('carrot migrations make writes the first migration, then nothing while nothing changed, then the next one', { timeout: 60_000 }, async () => {
  const first = await make('v1');
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /0001_init for 'orders' \(from no generated migration\)/);
  assert.match(first.stdout, /create table orders \(4 columns, 1 index\)/);
  assert.deepEqual(files(), ['0001_init.schema.json', '0001_init.ts', 'index.ts']);
  assert.match(
    read('0001_init.ts'),
    /sqlite: \[\n {4}`CREATE TABLE "orders" \(\n {2}"id" TEXT NOT NULL PRIMARY KEY,\n {2}"userId" TEXT NOT NULL,\n {2}"total" INTEGER NOT NULL,\n {2}"paid" INTEGER NOT NULL DEFAULT 0\n\)`,\n {4}`CREATE INDEX "orders_userId" ON "orders" \("userId"\)`,\n {2}\]/,
  );
  assert.match(read('0001_init.ts'), /"total" BIGINT NOT NULL,\n {2}"paid" BOOLEAN NOT NULL DEFAULT FALSE/);
  assert.match(read('index.ts'), /'0001_init': m0001_init,/);

  const before = contents();
  const again = await make('v1');
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /the tables of 'orders' are as 0001_init\.schema\.json left them; nothing to write/);
  assert.deepEqual(contents(), before, 'nothing written');

  const second = await make('v2');
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /0002_change_orders for 'orders' \(from 0001_init\.schema\.json\)/);
  assert.match(second.stdout, /add column orders\.status\n {2}create index orders_status on orders \(status\)/);
  assert.match(
    read('0002_change_orders.ts'),
    /`ALTER TABLE "orders" ADD COLUMN "status" TEXT NOT NULL DEFAULT 'NEW'`,\n {4}`CREATE INDEX "orders_status" ON "orders" \("status"\)`/,
  );
  assert.match(read('0002_change_orders.schema.json'), /\{ "name": "status", "type": "text", "nullable": false, "default": "NEW" \}/);
  assert.match(read('index.ts'), /'0001_init': m0001_init,\n {2}'0002_change_orders': m0002_change_orders,\n\};/);
});

test('the same declarations give the same files', { timeout: 30_000 }, async () => {
  const generated = contents();
  rmSync(join(migrations, '0002_change_orders.ts'));
  rmSync(join(migrations, '0002_change_orders.schema.json'));
  const r = await make('v2');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(contents(), generated);
});

test('a change it cannot make fails with UNSAFE_SCHEMA_CHANGE naming the column and writes nothing', { timeout: 30_000 }, async () => {
  const before = contents();
  const r = await make('retyped');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /carrot migrations: UNSAFE_SCHEMA_CHANGE: service 'orders': orders\.total changes type from integer to real/);
  assert.match(r.stderr, /Write a hand-written migration/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
  assert.deepEqual(contents(), before);
});

test('the written migrations run on a SQLite file; the service starts, and refuses a column declared without a migration', { timeout: 30_000 }, async () => {
  const { migrations: written } = (await import(pathToFileURL(join(migrations, 'index.ts')).href)) as { migrations: Record<string, Migration> };
  assert.deepEqual(Object.keys(written), ['0001_init', '0002_change_orders']);
  const pki = await testPki('migrations-fixture', ['orders']);
  const tls = pki.credentials('orders');
  const start = (version: Version) =>
    startServiceHost({
      app: app({ name: 'migrations-fixture', services: [ordersService(versions[version](), written)] }),
      service: 'orders',
      host: '127.0.0.1',
      port: 0,
      database: { file: join(dir, 'orders.sqlite') },
      transport: new HttpTransport({ caller: 'orders', registry: { app: 'migrations-fixture', gateway: { url: '' }, services: {} }, tls }),
      tls,
      log: createLogger('test', 'silent'),
    });
  try {
    const host = await start('v2');
    await host.close();
    // a host that starts anyway is closed, so the failure is reported rather than hanging the run
    const failure = await start('v3').then(
      (started) => started.close().then(() => undefined),
      (err: unknown) => err,
    );
    assert.ok(isCaroteneError(failure, 'SCHEMA_MISMATCH'), `expected SCHEMA_MISMATCH, got ${inspect(failure)}`);
    assert.match(failure.message, /orders\.reason is declared but the database has no such column; run `carrot migrations make orders`/);
  } finally {
    rmSync(pki.dataDir, { recursive: true, force: true });
  }
});

test('carrot migrations needs make and a service of the app', { timeout: 30_000 }, async () => {
  const usage = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
    execFile(process.execPath, [CARROT, 'migrations'], (err, _out, stderr) => resolve({ code: err ? (err.code as number) : 0, stderr })),
  );
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /expected a sub-command: make/);
  const unknown = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
    execFile(process.execPath, [CARROT, 'migrations', 'make', 'billing', APP], (err, _out, stderr) =>
      resolve({ code: err ? (err.code as number) : 0, stderr }),
    ),
  );
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /app 'migrations-fixture' has no service 'billing' \(it has: orders\)/);
});

test('by default the migrations go beside the module that declares the service, and two services in one folder need --dir', async () => {
  const v1 = versions.v1();
  const orders = { ...ordersService(v1), source: '/app/services/orders/service.ts:12' };
  const other = { ...ordersService(v1), name: 'billing', source: '/app/services/orders/billing.ts:3' };
  assert.equal(migrationsDir(app({ name: 'a', services: [orders] }), orders), '/app/services/orders/migrations');
  assert.throws(() => migrationsDir(app({ name: 'a', services: [orders, other] }), orders), /'orders' and 'billing' are declared in one folder.*--dir/);
});

test('--baseline records tables a hand-written migration made, without SQL; the next migration starts from it', { timeout: 30_000 }, async () => {
  const folder = join(dir, 'adopted');
  mkdirSync(folder);
  writeFileSync(
    join(folder, '0001_hand_written.ts'),
    `export const migration = { async up(db) {
  await db.schema.createTable('orders').addColumn('id', 'text', (c) => c.primaryKey()).addColumn('userId', 'text', (c) => c.notNull())
    .addColumn('total', 'integer', (c) => c.notNull()).addColumn('paid', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
  await db.schema.createIndex('orders_by_user').on('orders').column('userId').execute();
} };
`,
  );
  const baseline = await make('v1', '--dir', folder, '--baseline');
  assert.equal(baseline.code, 0, baseline.stderr);
  assert.match(baseline.stdout, /0002_baseline for 'orders' \(from no generated migration\), a baseline without SQL, of:\n {2}create table orders/);
  const module = readFileSync(join(folder, '0002_baseline.ts'), 'utf8');
  assert.match(module, /sqlite: \[\],\n {2}postgres: \[\],/);
  assert.match(readFileSync(join(folder, 'index.ts'), 'utf8'), /'0001_hand_written': m0001_hand_written,\n {2}'0002_baseline': m0002_baseline,/);

  const next = await make('v2', '--dir', folder);
  assert.equal(next.code, 0, next.stderr);
  assert.match(next.stdout, /0003_change_orders for 'orders' \(from 0002_baseline\.schema\.json\)/);
  assert.doesNotMatch(readFileSync(join(folder, '0003_change_orders.ts'), 'utf8'), /CREATE TABLE/);

  // the hand-written table, the baseline and the next step together are what v2 declares
  const { migrations: all } = (await import(pathToFileURL(join(folder, 'index.ts')).href)) as { migrations: Record<string, Migration> };
  const store = await openStore({ file: join(dir, 'adopted.sqlite') });
  try {
    assert.deepEqual(await migrate(store.db, all, 'orders'), ['0001_hand_written', '0002_baseline', '0003_change_orders']);
    await checkSchema(store.db, 'sqlite', 'orders', [versions.v2()]);
    // a baseline takes a change only a hand-written step can make; the start check then holds it to it
    const retyped = await make('retyped', '--dir', folder, '--baseline');
    assert.equal(retyped.code, 0, retyped.stderr);
    assert.match(retyped.stdout, /0004_baseline for 'orders' \(from 0003_change_orders\.schema\.json\)/);
    await assert.rejects(
      checkSchema(store.db, 'sqlite', 'orders', [versions.retyped()]),
      /orders\.total is declared as real but the database has it as integer/i,
    );
  } finally {
    await store.close();
  }
});
