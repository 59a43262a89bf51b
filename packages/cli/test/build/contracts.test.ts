import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { jsonSchemaOf } from '../../src/build/contract-snapshot.ts';
import { breakingChanges } from '../../src/build/schema-diff.ts';
import { carrot, fixtureApp, tempDir } from './run-carrot.ts';

async function snapshotOf(name: string): Promise<string> {
  const file = join(tempDir(), 'contracts.snapshot.json');
  const result = await carrot(['contracts', 'snapshot', fixtureApp(name).file, '--out', file]);
  assert.equal(result.code, 0, result.err.join('\n'));
  assert.match(result.out[0]!, /^carrot contracts: saved 1 services, 3 functions of 'shop' to /);
  return file;
}

describe('carrot build against a contract snapshot', () => {
  it('refuses a removed function, a removed field, a field made required and a narrowed type', async () => {
    const snapshot = await snapshotOf('contracts-v1');
    const { file, shown } = fixtureApp('contracts-v2');
    const result = await carrot(['build', file, '--snapshot', snapshot, '--out', tempDir(), '--data-dir', tempDir()]);
    assert.equal(result.code, 1);
    assert.deepEqual(result.err, [
      `${shown}: service 'catalog', function 'deleteProduct': function removed since the saved contract snapshot [breaking-change]`,
      `${shown}: service 'catalog', function 'getProduct': output price: output field removed [breaking-change]`,
      `${shown}: service 'catalog', function 'listProducts': input category: input field made required [breaking-change]`,
      `${shown}: service 'catalog', function 'listProducts': input limit: input type narrowed: maximum 100 -> 50 [breaking-change]`,
      `${shown}: service 'catalog', function 'listProducts': output [].price: output field removed [breaking-change]`,
      "carrot build: 5 problems in 'shop'; nothing was written",
    ]);
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
    const json = JSON.parse(a) as { services: { catalog: { functions: { getProduct: { input: unknown } } } } };
    assert.deepEqual(json.services.catalog.functions.getProduct.input, {
      type: 'object',
      properties: { id: { type: 'string' } },
      required: ['id'],
    });
  });
});

describe('breakingChanges', () => {
  const input = (a: z.ZodType, b: z.ZodType) =>
    breakingChanges(jsonSchemaOf(a, 'input'), jsonSchemaOf(b, 'input'), 'input').map((c) => `${c.path}: ${c.message}`);
  const output = (a: z.ZodType, b: z.ZodType) =>
    breakingChanges(jsonSchemaOf(a, 'output'), jsonSchemaOf(b, 'output'), 'output').map((c) => `${c.path}: ${c.message}`);

  it('sees a type change, an enum losing a value and a new bound on inputs', () => {
    assert.deepEqual(input(z.object({ n: z.string() }), z.object({ n: z.number() })), ['n: input type narrowed: string -> number']);
    assert.deepEqual(input(z.object({ s: z.enum(['a', 'b']) }), z.object({ s: z.enum(['a']) })), ['s: input type narrowed: no longer allows ["b"]']);
    assert.deepEqual(input(z.object({ s: z.string() }), z.object({ s: z.string().min(3) })), ['s: input type narrowed: minLength none -> 3']);
    assert.deepEqual(input(z.object({ n: z.number() }), z.object({ n: z.number().int() })), ['n: input type narrowed: number -> integer']);
    assert.deepEqual(input(z.object({ s: z.string().nullable() }), z.object({ s: z.string() })), ['s: input type narrowed: null -> string']);
  });

  it('lets inputs widen and outputs narrow', () => {
    assert.deepEqual(input(z.object({ n: z.number().int() }), z.object({ n: z.number() })), []);
    assert.deepEqual(input(z.object({ s: z.enum(['a']) }), z.object({ s: z.enum(['a', 'b']) })), []);
    assert.deepEqual(output(z.object({ s: z.enum(['a', 'b']) }), z.object({ s: z.enum(['a']) })), []);
  });

  it('refuses an output that widens or loses a guaranteed field', () => {
    assert.deepEqual(output(z.object({ s: z.enum(['a']) }), z.object({ s: z.enum(['a', 'b']) })), ['s: output type widened: may now be ["b"]']);
    assert.deepEqual(output(z.object({ s: z.string() }), z.object({ s: z.string().optional() })), ['s: output field made optional']);
  });
});
