import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readProtoLock } from '@carotene/runtime/grpc';
import { GREETER_CONTRACT, tempApp } from '../../../runtime/test/support/temp-app.ts';
import { GRPC_PYTHON_PLUGIN, haveProtoc, PYTHON, protoc } from '../../../runtime/test/grpc/protoc.ts';
import { contractFiles } from '../../src/build/contract-protos.ts';
import { Notes } from '../../templates/app/services/notes/contract.ts';
import { carrot, SHOP, tempDir } from './run-carrot.ts';

const CARROT_BIN = fileURLToPath(new URL('../../bin/carrot.js', import.meta.url));

/** `carrot` in a process of its own: it loads the app's edited contracts (this process keeps the first ones). */
function carrotChild(argv: readonly string[]): { code: number; out: string[]; err: string[] } {
  const r = spawnSync(process.execPath, ['--conditions=source', CARROT_BIN, ...argv], { encoding: 'utf8' });
  const lines = (s: string) => s.split('\n').filter((l) => l.length > 0);
  return { code: r.status ?? 1, out: lines(r.stdout), err: lines(r.stderr) };
}

const SHOP_PROTO = join(dirname(SHOP), 'proto');
const TEMPLATE_PROTO = fileURLToPath(new URL('../../templates/app/proto/', import.meta.url));

describe('carrot contracts proto', () => {
  it('the shop’s checked-in proto folder is current (--check)', async () => {
    const result = await carrot(['contracts', 'proto', SHOP, '--check']);
    assert.equal(result.code, 0, result.err.join('\n'));
    assert.match(result.out[0]!, /proto is up to date \(20 files\)$/);
  });

  it('the app template ships a current proto folder, so a new app builds', () => {
    for (const [name, text] of contractFiles(Notes, readProtoLock(TEMPLATE_PROTO, 'notes'), true)) {
      assert.equal(readFileSync(join(TEMPLATE_PROTO, name), 'utf8'), text, `templates/app/proto/${name} is current`);
    }
  });

  it('writes the files of every contract, the same bytes every time; --check lists what is out of date', async () => {
    const app = tempApp({ tsconfig: false });
    const proto = join(app.dir, 'proto');
    const before = await carrot(['contracts', 'proto', app.dir, '--check']);
    assert.equal(before.code, 1);
    assert.equal(existsSync(proto), false, '--check writes nothing');
    assert.match(before.err.join('\n'), /out of date: .*proto\/front\.proto/);
    assert.match(before.err.at(-1)!, /6 of 6 files in .* are out of date; run 'carrot contracts proto' and commit them$/);

    const wrote = await carrot(['contracts', 'proto', app.dir]);
    assert.equal(wrote.code, 0, wrote.err.join('\n'));
    assert.deepEqual(readdirSync(proto).sort(), [
      'front.lock.json',
      'front.proto',
      'front.schema.json',
      'greeter.lock.json',
      'greeter.proto',
      'greeter.schema.json',
    ]);
    const first = new Map(readdirSync(proto).map((f) => [f, readFileSync(join(proto, f), 'utf8')]));
    assert.match(first.get('greeter.proto')!, /message GreetResponse \{\n {2}string value = 1;\n\}/);
    const schema = JSON.parse(first.get('greeter.schema.json')!) as { functions: { greet: { input: { required: string[] } } } };
    assert.deepEqual(schema.functions.greet.input.required, ['name']);

    const again = await carrot(['contracts', 'proto', app.dir]);
    assert.match(again.out[0]!, /wrote 0 files to .* \(6 were up to date\)$/);
    for (const [f, text] of first) assert.equal(readFileSync(join(proto, f), 'utf8'), text, `${f} unchanged`);
    assert.equal((await carrot(['contracts', 'proto', app.dir, '--check'])).code, 0);

    // a new field: out of date, then numbered; removed again: its number is reserved
    app.write('services/greeter/contract.ts', GREETER_CONTRACT(', loud: z.boolean().optional()'));
    const stale = carrotChild(['contracts', 'proto', app.dir, '--check']);
    assert.equal(stale.code, 1);
    assert.deepEqual(
      stale.err.slice(0, -1).map((l) => l.replace(/^.*proto\//, '')),
      ['greeter.lock.json', 'greeter.proto', 'greeter.schema.json'],
    );
    assert.equal(carrotChild(['contracts', 'proto', app.dir]).code, 0);
    assert.deepEqual(readProtoLock(proto, 'greeter')?.messages.GreetRequest?.numbers, { name: 1, loud: 2 });
    app.write('services/greeter/contract.ts', GREETER_CONTRACT());
    assert.equal(carrotChild(['contracts', 'proto', app.dir]).code, 0);
    assert.deepEqual(readProtoLock(proto, 'greeter')?.messages.GreetRequest, { numbers: { name: 1 }, reserved: { numbers: [2], names: ['loud'] } });
    assert.match(
      readFileSync(join(proto, 'greeter.proto'), 'utf8'),
      /message GreetRequest \{\n {2}reserved 2;\n {2}reserved "loud";\n {2}string name = 1;\n\}/,
    );
  });

  it('refuses a construct protobuf cannot carry, naming contract, function and field', async () => {
    const app = tempApp({ tsconfig: false });
    app.write('services/greeter/contract.ts', GREETER_CONTRACT(', tags: z.array(z.object({ at: z.date() }))'));
    const result = await carrot(['contracts', 'proto', app.dir]);
    assert.equal(result.code, 1);
    assert.match(result.err.join('\n'), /greeter\.greet input\.tags\[\]\.at: z\.date\(\) has no protobuf mapping/);
    const built = await carrot(['build', app.dir, '--no-typecheck', '--env', 'development', '--image-tag', 't1', '--out', tempDir(), '--data-dir', tempDir()]);
    assert.equal(built.code, 1);
    assert.match(built.err.join('\n'), /greeter\.greet input\.tags\[\]\.at: z\.date\(\) has no protobuf mapping/);
  });

  it('unknown sub-commands and misplaced options are usage errors', async () => {
    assert.equal((await carrot(['contracts', 'protos', SHOP])).code, 2);
    assert.equal((await carrot(['contracts', 'snapshot', SHOP, '--check'])).code, 2);
    assert.equal((await carrot(['contracts', 'proto', SHOP, '--out', 'x'])).code, 2);
  });
});

describe('carrot build and the proto folder', () => {
  it('writes the same files into its output, from the checked-in locks', async () => {
    const app = tempApp({ tsconfig: false });
    assert.equal((await carrot(['contracts', 'proto', app.dir])).code, 0);
    const out = tempDir();
    const built = await carrot(['build', app.dir, '--no-typecheck', '--env', 'development', '--image-tag', 't1', '--out', out, '--data-dir', tempDir()]);
    assert.equal(built.code, 0, built.err.join('\n'));
    for (const f of readdirSync(join(app.dir, 'proto')))
      assert.equal(readFileSync(join(out, 'proto', f), 'utf8'), readFileSync(join(app.dir, 'proto', f), 'utf8'), f);
    assert.match(readFileSync(join(out, 'docker', 'greeter.Dockerfile'), 'utf8'), /CAROTENE_PROTO_DIR=\/app\/proto \\\n/);
  });

  it('refuses a field the lock has no number for, telling the user to run carrot contracts proto', async () => {
    const app = tempApp({ tsconfig: false });
    assert.equal((await carrot(['contracts', 'proto', app.dir])).code, 0);
    app.write('services/greeter/contract.ts', GREETER_CONTRACT(', loud: z.boolean().optional()'));
    const built = carrotChild(['build', app.dir, '--no-typecheck', '--env', 'development', '--image-tag', 't1', '--out', tempDir(), '--data-dir', tempDir()]);
    assert.equal(built.code, 1);
    assert.equal(
      built.err.at(-1),
      "carrot build: greeter.greet input.loud: the lock has no number for field loud of GreetRequest; run 'carrot contracts proto' and commit the proto directory",
    );
  });

  it('without a proto folder, numbers afresh and says so', async () => {
    const app = tempApp({ tsconfig: false });
    const out = tempDir();
    const built = await carrot(['build', app.dir, '--no-typecheck', '--env', 'development', '--image-tag', 't1', '--out', out, '--data-dir', tempDir()]);
    assert.equal(built.code, 0, built.err.join('\n'));
    assert.match(built.err.join('\n'), /no .*proto: protobuf field numbers were assigned afresh; run 'carrot contracts proto'/);
    assert.ok(existsSync(join(out, 'proto', 'greeter.proto')));
  });
});

describe('protoc and the shop’s .proto files', () => {
  it('compiles every one, and generates Python (messages and gRPC stubs) that imports', (t) => {
    if (!haveProtoc(t)) return;
    const files = readdirSync(SHOP_PROTO)
      .filter((f) => f.endsWith('.proto'))
      .sort();
    assert.deepEqual(files, ['catalog.proto', 'notifications.proto', 'orders.proto', 'payments.proto', 'recommendations.proto', 'users.proto']);
    const out = mkdtempSync(join(tmpdir(), 'shop-python-'));
    protoc(
      [`-I${SHOP_PROTO}`, `--python_out=${out}`, `--plugin=protoc-gen-grpc_python=${GRPC_PYTHON_PLUGIN}`, `--grpc_python_out=${out}`, ...files],
      SHOP_PROTO,
    );
    const script = [
      'import sys',
      `sys.path.insert(0, ${JSON.stringify(out)})`,
      'import catalog_pb2, catalog_pb2_grpc, orders_pb2, users_pb2_grpc, notifications_pb2, payments_pb2',
      'r = catalog_pb2.ReserveStockRequest(order_id="o1", items=[catalog_pb2.ReserveStockRequest.Items(product_id="p", qty=2)])',
      'back = catalog_pb2.ReserveStockRequest.FromString(r.SerializeToString())',
      'print(back.items[0].product_id, back.items[0].qty, catalog_pb2_grpc.CatalogStub.__name__, orders_pb2.GetOrderResponse.Status.Name(2))',
    ].join('\n');
    const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'p 2 CatalogStub STATUS_CONFIRMED');
  });
});
