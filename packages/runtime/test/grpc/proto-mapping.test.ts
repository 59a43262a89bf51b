import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { contract, rpc } from '../../../carotene/src/index.ts';
import { contractProto, ProtoMappingError } from '../../src/grpc/index.ts';
import { Everything } from './everything-contract.ts';

const text = contractProto(Everything).text;

/** The body of `message <name> {` … its closing brace at the same indent. */
function block(source: string, name: string): string {
  const start = source.search(new RegExp(`^( *)message ${name} \\{`, 'm'));
  assert.ok(start >= 0, `message ${name} is in the text`);
  const indent = /^ */.exec(source.slice(start))![0];
  const end = source.indexOf(`\n${indent}}`, start);
  return source.slice(start, end);
}

const fails = (schema: z.ZodType, where: string, side: 'input' | 'output' = 'input') =>
  assert.throws(
    () => contractProto(contract('c', { f: rpc(side === 'input' ? { input: schema, output: z.void() } : { input: z.void(), output: schema }) })),
    (err: unknown) => {
      assert.ok(err instanceof ProtoMappingError, String(err));
      assert.equal(err.code, 'INVALID_CONFIG');
      assert.match(err.message, new RegExp(`^c\\.f ${where.replace(/[.[\]()|{}]/g, '\\$&')}: `), err.message);
      return true;
    },
  );

describe('protobuf from a contract: naming', () => {
  it('names the package, service, rpcs and messages by the fixed conventions', () => {
    assert.match(text, /^syntax = "proto3";$/m);
    assert.match(text, /^package carotene\.every_thing\.v1;$/m);
    assert.match(text, /^service EveryThing \{$/m);
    assert.match(text, /^ {2}rpc Scalars\(ScalarsRequest\) returns \(ScalarsResponse\) \{\n {4}option idempotency_level = IDEMPOTENT;\n {2}\}$/m);
    assert.match(text, /^ {2}rpc Presence\(PresenceRequest\) returns \(PresenceResponse\);$/m);
    const proto = contractProto(Everything);
    assert.equal(proto.service.typeName, 'carotene.every_thing.v1.EveryThing');
    assert.equal(proto.functions.scalars!.method.name, 'Scalars');
    assert.equal(proto.functions.scalars!.method.input.typeName, 'carotene.every_thing.v1.ScalarsRequest');
  });

  it('snake_cases keys, with json_name only where the default camelCase differs from the key', () => {
    const m = block(text, 'ScalarsRequest');
    assert.match(m, /string product_id = \d+;/, 'productId → product_id, default json name');
    assert.match(m, /string url_path = \d+ \[json_name = "URLPath"\];/);
    assert.doesNotMatch(m, /product_id = \d+ \[json_name/);
  });

  it('refuses two keys or functions that become one protobuf name', () => {
    fails(z.object({ fooBar: z.string(), foo_bar: z.string() }), 'input');
    assert.throws(
      () => contractProto(contract('c', { getX: rpc({ input: z.void(), output: z.void() }), GetX: rpc({ input: z.void(), output: z.void() }) })),
      /both become rpc GetX/,
    );
    fails(z.object({ '1st': z.string() }), 'input.1st');
  });
});

describe('protobuf from a contract: the mapping table', () => {
  it('maps scalars: string, bool, double, literals to their base scalar, coerce to its type', () => {
    const m = block(text, 'ScalarsRequest');
    for (const line of [
      'string text = 1;',
      'string email = 2;',
      'bool flag = 3;',
      'double ratio = 4;',
      'string lit = 10;',
      'bool yes = 11;',
      'double one = 12;',
      'string ab = 13;',
      'string tpl = 14;',
      'optional int32 limit = 17;',
    ])
      assert.ok(m.includes(line), `${line} in\n${m}`);
  });

  it('picks int32 when the zod bounds fit it, else int64', () => {
    const m = block(text, 'ScalarsRequest');
    assert.match(m, /\bint32 small = 5;/);
    assert.match(m, /\bint64 big = 6;/, 'z.number().int() is a safe integer: beyond int32');
    assert.match(m, /\bint32 int32 = 7;/);
    assert.match(m, /\bint32 positive = 8;/);
    assert.match(m, /\bint64 too_big = 9;/, 'one past int32 max');
  });

  it('gives optional, nullable, default and catch proto3 presence; message fields have it already', () => {
    const m = block(text, 'PresenceRequest');
    for (const line of [
      'optional string maybe = 1;',
      'optional string or_null = 2;',
      'optional int32 with_default = 4;',
      'optional string caught = 5;',
      'string fixed = 6;',
      'PresenceRequest.ObjMaybe obj_maybe = 7;',
      'optional string union_null = 12;',
    ])
      assert.ok(m.includes(line), `${line} in\n${m}`);
    assert.doesNotMatch(m, /optional PresenceRequest\.ObjMaybe/);
  });

  it('wraps nullish values and optional arrays in a message, so null, absent and [] stay apart', () => {
    const m = block(text, 'PresenceRequest');
    assert.ok(m.includes('PresenceRequest.Both both = 3;'));
    assert.match(block(text, 'Both'), /optional string value = 1;/);
    assert.ok(m.includes('PresenceRequest.TagsMaybe tags_maybe = 10;'));
    assert.match(block(text, 'TagsMaybe'), /repeated string value = 1;/);
    assert.ok(m.includes('PresenceRequest.TagsNull tags_null = 11;'));
    assert.match(block(text, 'ObjBoth'), /PresenceRequest\.ObjBoth\.Value value = 1;/);
  });

  it('maps arrays to repeated, nested arrays and nullable items through a wrapper, records to maps', () => {
    const m = block(text, 'CollectionsRequest');
    for (const line of [
      'repeated string tags = 1;',
      'repeated CollectionsRequest.Lines lines = 2;',
      'repeated CollectionsRequest.GridItem grid = 3;',
      'repeated CollectionsRequest.HolesItem holes = 4;',
      'map<string, int32> counts = 5;',
      'map<string, CollectionsRequest.ByKind> by_kind = 6;',
      'map<string, CollectionsRequest.ListsValue> lists = 7;',
      'repeated CollectionsRequest.Colors colors = 8;',
    ])
      assert.ok(m.includes(line), `${line} in\n${m}`);
    assert.match(block(text, 'GridItem'), /repeated double value = 1;/);
    assert.match(block(text, 'HolesItem'), /optional string value = 1;/);
    assert.match(block(text, 'ListsValue'), /repeated string value = 1;/);
  });

  it('wraps an input or output that is not an object in a message with one field value = 1; void is empty', () => {
    assert.match(block(text, 'CollectionsResponse'), /repeated string value = 1;/);
    assert.match(block(text, 'WrappersRequest'), /string value = 1;/);
    assert.ok(text.includes('message PresenceResponse {}'));
    assert.ok(text.includes('message NothingRequest {}'));
    assert.ok(text.includes('message NothingResponse {}'));
  });

  it('maps a pipe by its input side for inputs and its output side for outputs', () => {
    assert.match(block(text, 'WrappersResponse'), /int32 value = 1;/, 'the output of transform→pipe is the int');
    fails(
      z.string().transform((s) => s.length),
      'output',
      'output',
    );
    // the input side of a transform is its source, which maps
    assert.doesNotThrow(() => contractProto(contract('c', { f: rpc({ input: z.string().transform((s) => s.length), output: z.void() }) })));
  });

  it('maps zod enums to proto enums with <ENUM>_UNSPECIFIED = 0 and prefixed values', () => {
    const m = block(text, 'EnumsRequest');
    assert.ok(m.includes('EnumsRequest.Kind kind = 1;'));
    assert.ok(m.includes('optional EnumsRequest.Level level = 2;'));
    assert.match(m, /enum Kind \{\n {4}KIND_UNSPECIFIED = 0;\n {4}KIND_ORDER_PLACED = 1;\n {4}KIND_ORDER_CONFIRMED = 2;\n {4}KIND_IN_STOCK = 3;\n {2}\}/);
    assert.match(m, /LEVEL_LOW = 1;\n {4}LEVEL_HIGH = 2;/, 'a numeric enum is named by its keys');
    assert.match(block(text, 'EnumsResponse'), /EnumsResponse\.Value value = 1;[\s\S]*VALUE_A = 1;/);
    fails(z.object({ k: z.enum(['a-b', 'a_b']) }), 'input.k');
  });

  it('maps unions of objects, discriminated or not, to a oneof', () => {
    const m = block(text, 'UnionsRequest');
    assert.match(
      m,
      /oneof payment \{\n {4}UnionsRequest\.PaymentCard payment_card = 1;\n {4}UnionsRequest\.PaymentBankTransfer payment_bank_transfer = 2;\n {2}\}/,
    );
    assert.match(m, /oneof shape \{\n {4}UnionsRequest\.Shape1 shape_1 = 3;\n {4}UnionsRequest\.Shape2 shape_2 = 4;/);
    assert.ok(m.includes('repeated UnionsRequest.EventsItem events = 5;'), 'a oneof cannot repeat: items are wrapped');
    assert.match(block(text, 'EventsItem'), /oneof value \{\n\s+UnionsRequest\.EventsItem\.ValueA value_a = 1;/);
    assert.match(block(text, 'UnionsResponse'), /oneof value \{\n\s+UnionsResponse\.Value1 value_1 = 1;\n\s+UnionsResponse\.Value2 value_2 = 2;/);
  });

  it('refuses what cannot map, naming contract, function and field path', () => {
    fails(z.object({ items: z.array(z.object({ qty: z.bigint() })) }), 'input.items[].qty');
    assert.throws(
      () => contractProto(contract('catalog', { getProduct: rpc({ input: z.object({ items: z.array(z.object({ qty: z.bigint() })) }), output: z.void() }) })),
      {
        message: 'catalog.getProduct input.items[].qty: z.bigint() has no protobuf mapping',
      },
    );
    fails(z.object({ at: z.date() }), 'input.at');
    fails(z.object({ pair: z.tuple([z.string(), z.number()]) }), 'input.pair');
    fails(z.object({ any: z.unknown() }), 'input.any');
    fails(z.object({ mixed: z.union([z.string(), z.number()]) }), 'input.mixed');
    fails(z.object({ half: z.union([z.object({ a: z.string() }), z.string()]) }), 'input.half');
    fails(z.object({ m: z.record(z.number(), z.string()) }), 'input.m{}');
    fails(z.object({ n: z.literal(null) }), 'input.n');
    fails(z.object({ s: z.set(z.string()) }), 'input.s');
    fails(z.object({ out: z.string().transform((s) => s.length) }), 'output.out', 'output');
    type Node = { name: string; children: Node[] };
    const Node: z.ZodType<Node> = z.lazy(() => z.object({ name: z.string(), children: z.array(Node) }));
    const Tree = z.object({
      name: z.string(),
      get children() {
        return z.array(Tree);
      },
    });
    fails(z.object({ root: Tree }), 'input.root.children[]');
    assert.doesNotThrow(
      () => contractProto(contract('c', { f: rpc({ input: z.lazy(() => z.object({ a: z.string() })), output: z.void() }) })),
      'a lazy that does not recurse maps',
    );
    void Node;
  });

  it('is deterministic: the same contract gives byte-identical text and lock', () => {
    const a = contractProto(Everything);
    const b = contractProto(Everything, { lock: a.lock });
    assert.equal(a.text, b.text);
    assert.deepEqual(a.lock, b.lock);
    assert.deepEqual(JSON.stringify(contractProto(Everything).lock), JSON.stringify(a.lock));
  });
});
