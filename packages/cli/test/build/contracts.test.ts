import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import type { AppDef, Compatibility } from 'carotene/model';
import { contract, event } from '../../../carotene/src/index.ts';
import { contractChanges, jsonSchemaOf, parseSnapshot, snapshotContracts } from '../../src/build/contract-snapshot.ts';
import v1 from './fixtures/contracts-v1.ts';
import v2 from './fixtures/contracts-v2.ts';
import { breakingChanges } from '../../src/build/schema-diff.ts';
import { carrot, fixtureApp, tempDir } from './run-carrot.ts';

async function snapshotOf(name: string): Promise<string> {
  const file = join(tempDir(), 'contracts.snapshot.json');
  const result = await carrot(['contracts', 'snapshot', fixtureApp(name).file, '--out', file]);
  assert.equal(result.code, 0, result.err.join('\n'));
  assert.match(result.out[0]!, /^carrot contracts: saved 1 services, 3 functions of 'shop' as release 1 to /);
  return file;
}

/** The app with its one service's contract declared under `mode`. */
function under(app: AppDef, mode: Compatibility): AppDef {
  const [service] = app.services;
  return { ...app, services: [{ ...service!, contract: contract(service!.contract.name, service!.contract.functions, { compatibility: mode }) }] } as AppDef;
}
const problems = (mode: Compatibility) => contractChanges(snapshotContracts(v1), snapshotContracts(under(v2, mode))).map((p) => `${p.where}: ${p.message}`);
const BACKWARD = '(backward: breaks backward compatibility: the new version must read what was written against the released one)';
const FORWARD = 'breaks forward compatibility: the released version must read what the new one writes)';

describe('carrot build against a contract snapshot', () => {
  it('refuses, under the default backward mode, a removed function, fields made or added as required and a narrowed type, naming field and mode', async () => {
    const snapshot = await snapshotOf('contracts-v1');
    const { file, shown } = fixtureApp('contracts-v2');
    const result = await carrot(['build', file, '--snapshot', snapshot, '--out', tempDir(), '--data-dir', tempDir()]);
    assert.equal(result.code, 1);
    assert.deepEqual(result.err, [
      `${shown}: service 'catalog', function 'deleteProduct': function removed since the released contract snapshot [breaking-change]`,
      `${shown}: service 'catalog', function 'getProduct': output stock: field added as required ${BACKWARD} [breaking-change]`,
      `${shown}: service 'catalog', function 'listProducts': input category: field made required ${BACKWARD} [breaking-change]`,
      `${shown}: service 'catalog', function 'listProducts': input limit: type narrowed: maximum 100 -> 50 ${BACKWARD} [breaking-change]`,
      `${shown}: service 'catalog', function 'listProducts': output [].stock: field added as required ${BACKWARD} [breaking-change]`,
      "carrot build: 5 problems in 'shop'; nothing was written",
    ]);
  });

  it('checks each mode in its own direction: forward sees the removed output fields, full both, none nothing', () => {
    assert.deepEqual(problems('forward'), [
      "service 'catalog', function 'deleteProduct': function removed since the released contract snapshot",
      `service 'catalog', function 'getProduct': output price: field removed (forward: ${FORWARD}`,
      `service 'catalog', function 'listProducts': output [].price: field removed (forward: ${FORWARD}`,
    ]);
    const full = problems('full');
    assert.equal(full.length, 7, full.join('\n'));
    assert.ok(full.some((p) => p.includes('input category: field made required (full: breaks backward')));
    assert.ok(full.some((p) => p.includes('output price: field removed (full: breaks forward')));
    assert.deepEqual(problems('none'), []);
    assert.deepEqual(
      problems('backward').map((p) => p.replace(BACKWARD, '(backward)')),
      [
        "service 'catalog', function 'deleteProduct': function removed since the released contract snapshot",
        "service 'catalog', function 'getProduct': output stock: field added as required (backward)",
        "service 'catalog', function 'listProducts': input category: field made required (backward)",
        "service 'catalog', function 'listProducts': input limit: type narrowed: maximum 100 -> 50 (backward)",
        "service 'catalog', function 'listProducts': output [].stock: field added as required (backward)",
      ],
    );
  });

  it('checks an event’s data under its own mode, and lets a new version change it freely', () => {
    const app = (schema: z.ZodType, mode?: Compatibility, version = 1) => {
      const [service] = v1.services;
      const placed = event('catalog', 'Restocked', { version, schema, ...(mode ? { compatibility: mode } : {}) });
      return { ...v1, services: [{ ...service!, publishes: [placed] }] } as AppDef;
    };
    const before = snapshotContracts(app(z.object({ id: z.string(), qty: z.number().int() })));
    const changed = z.object({ id: z.string(), warehouse: z.string() });
    const diff = (after: AppDef) => contractChanges(before, snapshotContracts(after)).map((p) => p.message);
    assert.deepEqual(diff(app(changed)), [`data warehouse: field added as required ${BACKWARD}`]);
    assert.deepEqual(diff(app(changed, 'forward')), [`data qty: field removed (forward: ${FORWARD}`]);
    assert.equal(diff(app(changed, 'full')).length, 2);
    assert.deepEqual(diff(app(changed, 'full', 2)), []);
  });

  it('keeps every release: a snapshot adds the next one only when something changed, and build checks the last', async () => {
    const file = await snapshotOf('contracts-v1');
    const again = await carrot(['contracts', 'snapshot', fixtureApp('contracts-v1').file, '--out', file]);
    assert.match(again.out[0]!, /already holds this state as release 1$/);
    const next = await carrot(['contracts', 'snapshot', fixtureApp('contracts-v2').file, '--out', file]);
    assert.equal(next.code, 0, next.err.join('\n'));
    assert.match(next.out[0]!, /as release 2 to /);
    const history = parseSnapshot(readFileSync(file, 'utf8'), file);
    assert.deepEqual(
      history.releases.map((r) => [r.release, Object.keys(r.services.catalog!.functions).sort()]),
      [
        [1, ['deleteProduct', 'getProduct', 'listProducts']],
        [2, ['addProduct', 'getProduct', 'listProducts']],
      ],
    );
    const build = await carrot([
      'build',
      fixtureApp('contracts-v2').file,
      '--snapshot',
      file,
      '--out',
      tempDir(),
      '--data-dir',
      tempDir(),
      '--env',
      'development',
      '--no-typecheck',
    ]);
    assert.equal(build.code, 0, build.err.join('\n'));
    assert.match(build.out.join('\n'), /contracts compatible with release 2 of /);
  });

  it('reads a snapshot of the first format as one release, and refuses a file that is not a snapshot', async () => {
    const old = join(tempDir(), 'old.snapshot.json');
    writeFileSync(old, JSON.stringify({ snapshotVersion: 1, app: 'shop', services: snapshotContracts(v1).services }));
    const { file } = fixtureApp('contracts-v2');
    const result = await carrot(['build', file, '--snapshot', old, '--out', tempDir(), '--data-dir', tempDir(), '--no-typecheck']);
    assert.equal(result.code, 1);
    assert.match(result.err.at(-1)!, /5 problems in 'shop'/);
    const bad = join(tempDir(), 'bad.json');
    writeFileSync(bad, JSON.stringify({ snapshotVersion: 2, releases: [] }));
    const refused = await carrot(['contracts', 'snapshot', fixtureApp('contracts-v1').file, '--out', bad]);
    assert.equal(refused.code, 1);
    assert.match(refused.err.join('\n'), /is not a contract snapshot .*move it away to start a new history/);
  });

  it('accepts additions and wider inputs', async () => {
    const snapshot = await snapshotOf('contracts-v1');
    const result = await carrot([
      'build',
      fixtureApp('contracts-v1-compatible').file,
      '--snapshot',
      snapshot,
      '--out',
      tempDir(),
      '--data-dir',
      tempDir(),
      '--env',
      'development',
      '--no-typecheck',
    ]);
    assert.equal(result.code, 0, result.err.join('\n'));
    assert.match(result.out[0]!, /contracts compatible with /);
  });

  it('writes a deterministic snapshot of JSON Schemas', async () => {
    const a = readFileSync(await snapshotOf('contracts-v1'), 'utf8');
    const b = readFileSync(await snapshotOf('contracts-v1'), 'utf8');
    assert.equal(a, b);
    const json = JSON.parse(a) as { releases: { services: { catalog: { compatibility: string; functions: { getProduct: { input: unknown } } } } }[] };
    assert.equal(json.releases[0]!.services.catalog.compatibility, 'backward');
    assert.deepEqual(json.releases[0]!.services.catalog.functions.getProduct.input, {
      type: 'object',
      properties: { id: { type: 'string' } },
      required: ['id'],
    });
  });
});

describe('breakingChanges', () => {
  const backward = (a: z.ZodType, b: z.ZodType) =>
    breakingChanges(jsonSchemaOf(a, 'input'), jsonSchemaOf(b, 'input'), 'backward').map((c) => `${c.path}: ${c.message}`);
  const forward = (a: z.ZodType, b: z.ZodType) =>
    breakingChanges(jsonSchemaOf(a, 'output'), jsonSchemaOf(b, 'output'), 'forward').map((c) => `${c.path}: ${c.message}`);

  it('backward: sees a type change, an enum losing a value, a new bound, a field made or added as required', () => {
    assert.deepEqual(backward(z.object({ n: z.string() }), z.object({ n: z.number() })), ['n: type narrowed: string -> number']);
    assert.deepEqual(backward(z.object({ s: z.enum(['a', 'b']) }), z.object({ s: z.enum(['a']) })), ['s: type narrowed: no longer allows ["b"]']);
    assert.deepEqual(backward(z.object({ s: z.string() }), z.object({ s: z.string().min(3) })), ['s: type narrowed: minLength none -> 3']);
    assert.deepEqual(backward(z.object({ n: z.number() }), z.object({ n: z.number().int() })), ['n: type narrowed: number -> integer']);
    assert.deepEqual(backward(z.object({ s: z.string().nullable() }), z.object({ s: z.string() })), ['s: type narrowed: null -> string']);
    assert.deepEqual(backward(z.object({ s: z.string().optional() }), z.object({ s: z.string() })), ['s: field made required']);
    assert.deepEqual(backward(z.object({}), z.object({ s: z.string() })), ['s: field added as required']);
  });

  it('backward: lets a schema widen, gain an optional field and drop a field', () => {
    assert.deepEqual(backward(z.object({ n: z.number().int() }), z.object({ n: z.number() })), []);
    assert.deepEqual(backward(z.object({ s: z.enum(['a']) }), z.object({ s: z.enum(['a', 'b']) })), []);
    assert.deepEqual(backward(z.object({ s: z.string(), t: z.string() }), z.object({ s: z.string(), u: z.string().optional() })), []);
  });

  it('forward: refuses a widening, a required field removed or made optional; lets a schema narrow', () => {
    assert.deepEqual(forward(z.object({ s: z.enum(['a']) }), z.object({ s: z.enum(['a', 'b']) })), ['s: type widened: may now be ["b"]']);
    assert.deepEqual(forward(z.object({ s: z.string() }), z.object({ s: z.string().optional() })), ['s: field made optional']);
    assert.deepEqual(forward(z.object({ s: z.string(), t: z.string().optional() }), z.object({})), ['s: field removed']);
    assert.deepEqual(forward(z.object({ s: z.enum(['a', 'b']) }), z.object({ s: z.enum(['a']) })), []);
    assert.deepEqual(forward(z.object({}), z.object({ s: z.string() })), []);
  });
});
