import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { contractProto } from '../../src/grpc/index.ts';
import { Everything } from './everything-contract.ts';

const proto = contractProto(Everything);

/** Through the wire and back: value → message → bytes → message → value. */
function roundTrip(fn: keyof typeof Everything.functions, side: 'input' | 'output', value: unknown): unknown {
  const f = proto.functions[fn]!;
  const desc = side === 'input' ? f.method.input : f.method.output;
  const bytes = toBinary(desc, f[side].toMessage(value));
  return f[side].fromMessage(fromBinary(desc, bytes));
}

/** The round trip gives `expected` (default: the value itself), and zod accepts it. */
function same(fn: keyof typeof Everything.functions, side: 'input' | 'output', value: unknown, expected: unknown = value): void {
  const back = roundTrip(fn, side, value);
  assert.deepEqual(back, expected);
  const parsed = Everything.functions[fn][side].safeParse(back);
  assert.ok(parsed.success, `zod accepts ${JSON.stringify(back)}: ${parsed.error?.message}`);
}

const scalars = {
  text: 't',
  email: 'a@b.test',
  flag: true,
  ratio: 0.25,
  small: 1000,
  big: Number.MAX_SAFE_INTEGER,
  int32: -2_147_483_648,
  positive: 2_147_483_647,
  tooBig: 2_147_483_648,
  lit: 'x',
  yes: true,
  one: 1,
  ab: 'b',
  tpl: 'id_7',
  productId: 'p',
  URLPath: '/u',
  limit: 5,
};

describe('protobuf codecs: plain value ⇄ message through binary', () => {
  it('carries scalars, int64 beyond int32 as numbers, and coerces what zod coerces', () => {
    same('scalars', 'input', scalars);
    same('scalars', 'input', { ...scalars, flag: false, ratio: 0, small: 0 });
    same('scalars', 'input', { ...scalars, limit: '7' }, { ...scalars, limit: 7 });
    const { limit: _, ...noLimit } = scalars;
    same('scalars', 'input', noLimit);
    same('scalars', 'output', { ok: false });
  });

  it('keeps undefined, null and absent apart as the schema does', () => {
    const all = {
      maybe: 'm',
      orNull: 'n',
      both: 'b',
      withDefault: 0,
      caught: 'c',
      fixed: 'f',
      objMaybe: { a: '1' },
      objNull: { a: '2' },
      objBoth: { a: '3' },
      tagsMaybe: [],
      tagsNull: ['x'],
      unionNull: 'u',
    };
    same('presence', 'input', all);
    const none = { orNull: null, fixed: 'f', objNull: null, tagsNull: null, unionNull: null };
    same('presence', 'input', none);
    same('presence', 'input', { ...none, both: null, objBoth: null, tagsMaybe: undefined }, { ...none, both: null, objBoth: null });
    same('presence', 'input', { ...none, both: undefined, tagsNull: [] }, { ...none, tagsNull: [] });
    same('presence', 'output', undefined);
  });

  it('carries arrays, nested arrays, nullable items, maps and enum items', () => {
    const value = {
      tags: ['a', 'b'],
      lines: [{ productId: 'p1', qty: 2 }],
      grid: [[1, 2], [], [3]],
      holes: ['a', null, 'b'],
      counts: { x: 1, y: 0 },
      byKind: { a: { n: 1.5 }, b: { n: 2 } },
      lists: { l: ['x'], e: [] },
      colors: ['green', 'red'],
    };
    same('collections', 'input', value);
    same('collections', 'input', { tags: [], lines: [], grid: [], holes: [], counts: {}, byKind: { a: { n: 0 }, b: { n: 0 } }, lists: {}, colors: [] });
    same('collections', 'output', ['one', 'two']);
  });

  it('maps enum values both ways, numeric enums included', () => {
    same('enums', 'input', { kind: 'in-stock', level: 2 });
    same('enums', 'input', { kind: 'orderConfirmed' });
    same('enums', 'output', 'B');
    const f = proto.functions.enums!;
    assert.deepEqual(f.input.fromMessage(fromBinary(f.method.input, new Uint8Array())), {}, 'UNSPECIFIED decodes as left out, for zod to refuse');
  });

  it('carries a oneof by discriminator, or by the first option zod accepts', () => {
    same('unions', 'input', {
      payment: { method: 'bank-transfer', iban: 'DE1' },
      shape: { side: 2 },
      events: [
        { type: 'b', b: 1 },
        { type: 'a', a: 'x' },
      ],
    });
    same('unions', 'input', { payment: { method: 'card', number: '4' }, events: [] });
    same('unions', 'output', { ok: true, id: 'i' });
    same('unions', 'output', { ok: false, error: 'e' });
  });

  it('carries the input side of a pipe in, the output side out; empty messages carry nothing', () => {
    same('wrappers', 'input', '  Ann@Shop.test ', '  Ann@Shop.test ');
    // the output side (after the transform) is what a handler's parsed output is, and what crosses
    assert.equal(roundTrip('wrappers', 'output', 7), 7);
    same('nothing', 'input', undefined);
    same('nothing', 'output', null);
  });

  it('refuses a value the wire cannot carry with INVALID_INPUT or INVALID_OUTPUT naming the path', () => {
    const bad = (fn: keyof typeof Everything.functions, side: 'input' | 'output', value: unknown, message: RegExp) =>
      assert.throws(
        () => proto.functions[fn]![side].toMessage(value),
        (err: unknown) => {
          const e = err as { code?: string; message: string };
          assert.equal(e.code, side === 'input' ? 'INVALID_INPUT' : 'INVALID_OUTPUT');
          assert.match(e.message, message);
          return true;
        },
      );
    bad('scalars', 'input', 'nope', /^every-thing\.scalars input: expected an object, got the string "nope"$/);
    bad('scalars', 'input', { ...scalars, small: 1.5 }, /input\.small: expected an integer, got number 1\.5/);
    bad('scalars', 'input', { ...scalars, int32: 2 ** 31 }, /input\.int32: 2147483648 does not fit int32/);
    bad('scalars', 'input', { ...scalars, text: undefined }, /input\.text: is required, got undefined/);
    bad('scalars', 'input', { ...scalars, flag: 'yes' }, /input\.flag: expected a boolean/);
    bad('collections', 'input', { tags: 'a' }, /input\.tags: expected an array/);
    bad('collections', 'input', { tags: [1] }, /input\.tags\[0\]: expected a string, got number 1/);
    bad('enums', 'input', { kind: 'NOPE' }, /input\.kind: expected one of "ORDER_PLACED", "orderConfirmed", "in-stock"/);
    bad('unions', 'input', { payment: { method: 'cash' }, events: [] }, /input\.payment: matches none of the union/);
    bad('presence', 'input', { maybe: null }, /input\.maybe: may be left out but not null/);
    bad('unions', 'output', { nothing: true }, /output: matches none of the union/);
    bad('nothing', 'output', 5, /output: expected nothing/);
  });
});
