import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { contract, rpc } from '../../../carotene/src/index.ts';
import { contractProto, formatProtoLock, type ProtoLock, ProtoMappingError, readProtoLock } from '../../src/grpc/index.ts';

const version = (input: z.ZodType, output: z.ZodType = z.void()) => contract('shop-items', { put: rpc({ input, output }) });
const numbers = (lock: ProtoLock, message = 'PutRequest') => lock.messages[message]?.numbers;
const reserved = (lock: ProtoLock, message = 'PutRequest') => lock.messages[message]?.reserved;

describe('the field-number lock', () => {
  const v1 = contractProto(version(z.object({ a: z.string(), b: z.string(), c: z.string() })));

  it('numbers new fields in order, starting at 1', () => {
    assert.deepEqual(numbers(v1.lock), { a: 1, b: 2, c: 3 });
    assert.deepEqual(reserved(v1.lock), { numbers: [], names: [] });
  });

  it('keeps numbers when fields are reordered', () => {
    const v2 = contractProto(version(z.object({ c: z.string(), a: z.string(), b: z.string() })), { lock: v1.lock });
    assert.deepEqual(numbers(v2.lock), { a: 1, b: 2, c: 3 });
    assert.match(v2.text, /string c = 3;\n {2}string a = 1;\n {2}string b = 2;/);
  });

  it('reserves a removed field’s number and name, and never gives the number again', () => {
    const v2 = contractProto(version(z.object({ a: z.string(), c: z.string(), d: z.string() })), { lock: v1.lock });
    assert.deepEqual(numbers(v2.lock), { a: 1, c: 3, d: 4 }, 'd gets 4, not the freed 2');
    assert.deepEqual(reserved(v2.lock), { numbers: [2], names: ['b'] });
    assert.match(v2.text, /message PutRequest \{\n {2}reserved 2;\n {2}reserved "b";\n/);
    // re-added: a new number, the old one stays reserved, the name is free again (protoc refuses a reserved name in use)
    const v3 = contractProto(version(z.object({ a: z.string(), b: z.string(), c: z.string(), d: z.string() })), { lock: v2.lock });
    assert.deepEqual(numbers(v3.lock), { a: 1, c: 3, d: 4, b: 5 });
    assert.deepEqual(reserved(v3.lock), { numbers: [2], names: [] });
  });

  it('treats a rename as remove + add', () => {
    const v2 = contractProto(version(z.object({ a: z.string(), bee: z.string(), c: z.string() })), { lock: v1.lock });
    assert.deepEqual(numbers(v2.lock), { a: 1, c: 3, bee: 4 });
    assert.deepEqual(reserved(v2.lock), { numbers: [2], names: ['b'] });
  });

  it('keeps a removed message’s numbers reserved, for when it comes back', () => {
    const nested = contractProto(version(z.object({ item: z.object({ x: z.string(), y: z.string() }) })));
    const without = contractProto(version(z.object({ other: z.string() })), { lock: nested.lock });
    assert.deepEqual(reserved(without.lock, 'PutRequest.Item'), { numbers: [1, 2], names: ['x', 'y'] });
    const back = contractProto(version(z.object({ item: z.object({ x: z.string() }) })), { lock: without.lock });
    assert.deepEqual(numbers(back.lock, 'PutRequest.Item'), { x: 3 });
    assert.deepEqual(numbers(back.lock), { item: 3 }, 'the field item was reserved too');
    assert.deepEqual(reserved(back.lock), { numbers: [1, 2], names: ['other'] });
  });

  it('numbers enum values the same way; UNSPECIFIED stays 0', () => {
    const e1 = contractProto(version(z.object({ s: z.enum(['A', 'B', 'C']) })));
    assert.deepEqual(e1.lock.enums['PutRequest.S']?.numbers, { S_A: 1, S_B: 2, S_C: 3 });
    const e2 = contractProto(version(z.object({ s: z.enum(['C', 'A', 'D']) })), { lock: e1.lock });
    assert.deepEqual(e2.lock.enums['PutRequest.S'], { numbers: { S_A: 1, S_C: 3, S_D: 4 }, reserved: { numbers: [2], names: ['S_B'] } });
    assert.match(e2.text, /enum S \{\n {4}reserved 2;\n {4}reserved "S_B";\n {4}S_UNSPECIFIED = 0;\n {4}S_C = 3;\n {4}S_A = 1;\n {4}S_D = 4;/);
  });

  it('skips the numbers protobuf keeps for itself (19000-19999)', () => {
    const lock: ProtoLock = { version: 1, messages: { PutRequest: { numbers: { a: 18_999 }, reserved: { numbers: [], names: [] } } }, enums: {} };
    const p = contractProto(version(z.object({ a: z.string(), b: z.string() })), { lock });
    assert.equal(numbers(p.lock)?.b, 20_000);
  });

  it('frozen refuses a field the lock lacks, naming it and what to run', () => {
    assert.doesNotThrow(() => contractProto(version(z.object({ a: z.string(), b: z.string(), c: z.string() })), { lock: v1.lock, frozen: true }));
    assert.throws(
      () => contractProto(version(z.object({ a: z.string(), items: z.array(z.object({ qty: z.number() })) })), { lock: v1.lock, frozen: true }),
      (err: unknown) =>
        err instanceof ProtoMappingError &&
        err.message ===
          "shop-items.put input.items: the lock has no number for field items of PutRequest; run 'carrot contracts proto' and commit the proto directory",
    );
    assert.throws(() => contractProto(version(z.object({ a: z.string() })), { frozen: true }), /no number for field a of PutRequest/, 'no lock at all');
  });

  it('reads a lock from a proto directory and writes it the same way every time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proto-lock-'));
    assert.equal(readProtoLock(dir, 'shop-items'), undefined, 'no file: no lock');
    const text = formatProtoLock(v1.lock);
    writeFileSync(join(dir, 'shop-items.lock.json'), text);
    assert.deepEqual(readProtoLock(dir, 'shop-items'), v1.lock);
    assert.equal(formatProtoLock(JSON.parse(text) as ProtoLock), text);
    assert.ok(text.endsWith('}\n'));
    writeFileSync(join(dir, 'bad.lock.json'), '{"version":2}');
    assert.throws(
      () => readProtoLock(dir, 'bad'),
      (err: unknown) => (err as { code?: string }).code === 'INVALID_CONFIG' && /bad\.lock\.json is not a protobuf lock/.test(String(err)),
    );
    writeFileSync(join(dir, 'junk.lock.json'), '{');
    assert.throws(() => readProtoLock(dir, 'junk'), /junk\.lock\.json is not JSON/);
    writeFileSync(join(dir, 'shape.lock.json'), '{"version":1,"messages":{"A":{"numbers":{"x":"1"}}},"enums":{}}');
    assert.throws(() => readProtoLock(dir, 'shape'), /messages\.A is not/);
  });
});
