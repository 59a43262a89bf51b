import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonCopy } from '../../src/transport/json-copy.ts';

const roundTrip = (v: unknown): unknown => {
  const text = JSON.stringify(v);
  return text === undefined ? undefined : JSON.parse(text);
};

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

const cases: Array<[string, unknown]> = [
  ['an order', { id: 'o1', items: [{ sku: 's', qty: 2 }], note: 'x' }],
  ['primitives', ['s', 1, 0, -0, true, false, null, 1.5e300]],
  ['numbers JSON cannot carry', { nan: NaN, inf: Infinity, ninf: -Infinity }],
  ['undefined, functions and symbols in objects', { a: undefined, f: () => 1, s: Symbol('s'), kept: 1 }],
  ['undefined, functions and symbols in arrays', [undefined, () => 1, Symbol('s'), 2]],
  // biome-ignore lint/suspicious/noSparseArray: a hole in the array is the case under test
  ['a sparse array', [1, , 3]],
  ['a Date and a nested toJSON', { at: new Date(0), custom: { toJSON: () => ({ shown: true }) } }],
  ['a class instance, a Map and a Set', { p: new Point(1, 2), m: new Map([['k', 1]]), s: new Set([1]) }],
  ['boxed primitives', { s: new String('x'), n: new Number(3), b: new Boolean(false) }],
  ['a null-prototype object', Object.assign(Object.create(null) as object, { a: 1 })],
  ['integer-like keys after string keys', { b: 1, 2: 'two', a: 2, 1: 'one' }],
  ['a typed array and a buffer', { u: new Uint8Array([1, 2]), buf: Buffer.from('hi') }],
  ['strings with lone surrogates and control characters', ['\ud800', 'a\u0000b', '"quoted"\n']],
  ['deep nesting', JSON.parse('['.repeat(200) + ']'.repeat(200))],
  ['an inherited enumerable property is left out', Object.assign(Object.create({ inherited: 1 }) as object, { own: 2 })],
];

describe('jsonCopy', () => {
  for (const [name, value] of cases) {
    it(`gives what a JSON round trip gives: ${name}`, () => {
      const copied = jsonCopy(value);
      assert.deepEqual(copied, roundTrip(value));
      assert.equal(JSON.stringify(copied), JSON.stringify(roundTrip(value)), 'same keys in the same order');
    });
  }

  it('shares no object with its input', () => {
    const input = { items: [{ sku: 's' }], meta: { tags: ['a'] } };
    const copied = jsonCopy(input);
    copied.items[0]!.sku = 'changed';
    copied.meta.tags.push('b');
    assert.deepEqual(input, { items: [{ sku: 's' }], meta: { tags: ['a'] } });
  });

  it('keeps a "__proto__" key as data, as JSON.parse does, without touching the prototype', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const copied = jsonCopy(input);
    assert.equal(Object.getPrototypeOf(copied), Object.prototype);
    assert.equal((copied as { polluted?: unknown }).polluted, undefined);
    assert.deepEqual(Object.keys(copied), ['__proto__', 'a']);
    assert.deepEqual(copied, roundTrip(input));
  });

  it('throws what JSON.stringify throws for a cycle and for a BigInt', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    assert.throws(() => jsonCopy(cyclic), TypeError);
    assert.throws(() => jsonCopy({ n: 10n }), TypeError);
  });

  it('passes undefined through and drops top-level values JSON cannot carry', () => {
    assert.equal(jsonCopy(undefined), undefined);
    assert.equal(
      jsonCopy(() => 1),
      undefined,
    );
    assert.equal(jsonCopy('text'), 'text');
  });
});
