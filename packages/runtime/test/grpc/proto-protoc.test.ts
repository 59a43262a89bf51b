import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fromBinary, toBinary, toJson } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { z } from 'zod';
import { contract, rpc } from '../../../carotene/src/index.ts';
import { contractProto } from '../../src/grpc/index.ts';
import { Everything } from './everything-contract.ts';
import { haveProtoc, PYTHON, protoc } from './protoc.ts';

describe('protoc reads the generated .proto', () => {
  it('compiles it to the same descriptors the module builds, reserved numbers included', (t) => {
    if (!haveProtoc(t)) return;
    const v1 = contractProto(Everything);
    // a second version with removed fields and enum values, so that `reserved` is compiled too
    const changed = contract('every-thing', {
      ...Everything.functions,
      enums: rpc({ input: z.object({ kind: z.enum(['in-stock']) }), output: z.enum(['A', 'B']) }),
      scalars: rpc({ input: z.object({ text: z.string(), extra: z.string() }), output: z.object({}), idempotent: true }),
    });
    for (const proto of [v1, contractProto(changed, { lock: v1.lock })]) {
      const dir = mkdtempSync(join(tmpdir(), 'protoc-'));
      writeFileSync(join(dir, 'every-thing.proto'), proto.text);
      protoc(['-I.', '--include_imports', '-oset.pb', 'every-thing.proto'], dir);
      const set = fromBinary(FileDescriptorSetSchema, readFileSync(join(dir, 'set.pb')));
      assert.equal(set.file.length, 1);
      assert.deepEqual(toJson(FileDescriptorProtoSchema, set.file[0]!), toJson(FileDescriptorProtoSchema, proto.file.proto));
    }
  });

  it('generates Python that the Python protobuf runtime imports and encodes like the module', (t) => {
    if (!haveProtoc(t)) return;
    const proto = contractProto(Everything);
    const dir = mkdtempSync(join(tmpdir(), 'protoc-py-'));
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'every_thing.proto'), proto.text);
    protoc(['-I.', '--python_out=out', 'every_thing.proto'], dir);
    const f = proto.functions.collections!;
    const bytes = toBinary(
      f.method.input,
      f.input.toMessage({
        tags: ['a'],
        lines: [{ productId: 'p', qty: 2 }],
        grid: [[1]],
        holes: [null],
        counts: { x: 3 },
        byKind: { a: { n: 1 }, b: { n: 2 } },
        lists: {},
        colors: ['green'],
      }),
    );
    const script = [
      'import sys',
      "sys.path.insert(0, 'out')",
      'import every_thing_pb2 as pb',
      'm = pb.CollectionsRequest()',
      'm.ParseFromString(bytes.fromhex(sys.argv[1]))',
      'print(m.lines[0].product_id, m.lines[0].qty, m.counts["x"], m.holes[0].HasField("value"), pb.CollectionsRequest.Colors.Name(m.colors[0]), m.by_kind["b"].n)',
    ].join('\n');
    const r = spawnSync(PYTHON, ['-c', script, Buffer.from(bytes).toString('hex')], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'p 2 3 False COLORS_GREEN 2.0');
  });
});
