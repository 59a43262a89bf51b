import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { create, fromBinary, toBinary, toJson } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { isCaroteneError } from 'carotene/model';
import { EVENT_PROTO_FILES } from '../../src/grpc/index.ts';
import { buildEnvelope, parseEnvelope } from '../../src/events/envelope.ts';
import { cloudEventsFile, eventsFile } from '../../src/transport/grpc-descriptors.ts';
import { DELIVER_METHOD } from '../../src/transport/grpc-events.ts';
import { event } from '../../../carotene/src/index.ts';
import { z } from 'zod';
import { haveProtoc, protoc } from './protoc.ts';
import { WELL_KNOWN_TYPES } from './standard-protos.ts';

const PriceChanged = event('pricing', 'PriceChanged', { version: 2, schema: z.object({ productId: z.string(), price: z.number().int() }) });

/** A DeliverRequest as a sender in another language would put it on the wire. */
function wire(events: object[]): Uint8Array {
  return toBinary(DELIVER_METHOD.method.input, create(DELIVER_METHOD.method.input, { events } as never));
}
const decode = (bytes: Uint8Array) => DELIVER_METHOD.input.fromMessage(fromBinary(DELIVER_METHOD.method.input, bytes)) as { events: Record<string, unknown>[] };
const base = { id: 'ev-1', source: '/services/pricing', specVersion: '1.0', type: 'pricing.PriceChanged' };

describe('events over gRPC: carotene.events.v1.Events and the CloudEvents Protobuf Format', () => {
  it('protoc compiles the written .proto files to the descriptors the runtime serves', (t) => {
    if (!haveProtoc(t)) return;
    if (!existsSync(WELL_KNOWN_TYPES)) {
      if (process.env.CI === 'true') assert.fail(`CI=true but ${WELL_KNOWN_TYPES} is missing (apt-get install libprotobuf-dev)`);
      return t.skip(`${WELL_KNOWN_TYPES} is missing (apt-get install libprotobuf-dev)`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'events-proto-'));
    for (const [path, text] of EVENT_PROTO_FILES) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    protoc(['-I.', '-I/usr/include', '-oset.pb', ...EVENT_PROTO_FILES.keys()], dir);
    const set = fromBinary(FileDescriptorSetSchema, readFileSync(join(dir, 'set.pb')));
    const compiled = new Map(set.file.map((f) => [f.name, f]));
    for (const ours of [cloudEventsFile, eventsFile]) {
      const theirs = compiled.get(ours.proto.name);
      assert.ok(theirs, `protoc wrote no ${ours.proto.name}`);
      // the same messages, fields, numbers, types, oneofs and service; protoc adds nothing else that matters on the wire
      const shape = (f: typeof theirs) => {
        const json = toJson(FileDescriptorProtoSchema, f) as Record<string, unknown>;
        return { package: json.package, dependency: json.dependency, messageType: json.messageType, service: json.service };
      };
      assert.deepEqual(shape(ours.proto), shape(theirs));
    }
  });

  it('an envelope goes over as a CloudEvent with typed attributes and JSON text data, and comes back the same', () => {
    const envelope = buildEnvelope(PriceChanged, { productId: 'p_1', price: 250 }, 'p_1', {
      traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
      tracestate: 'k=v',
    });
    const message = DELIVER_METHOD.input.toMessage({ events: [envelope] });
    const bytes = toBinary(DELIVER_METHOD.method.input, message);
    const back = decode(bytes).events[0]!;
    assert.deepEqual(parseEnvelope(back), envelope);
    const ce = (message as unknown as { events: { attributes: Record<string, { attr: { case: string } }>; data: { case: string } }[] }).events[0]!;
    assert.equal(ce.attributes.time!.attr.case, 'ceTimestamp');
    assert.equal(ce.attributes.schemaversion!.attr.case, 'ceInteger');
    assert.equal(ce.data.case, 'textData');
  });

  it('fills what the format leaves optional: receipt time, the id as ordering key, a new trace', () => {
    const got = decode(
      wire([
        {
          ...base,
          attributes: { schemaversion: { attr: { case: 'ceInteger', value: 2 } } },
          data: { case: 'binaryData', value: new TextEncoder().encode('{"productId":"p_1","price":3}') },
        },
      ]),
    ).events[0]!;
    const envelope = parseEnvelope(got);
    assert.equal(envelope.subject, 'ev-1');
    assert.equal(envelope.schemaversion, 2);
    assert.deepEqual(envelope.data, { productId: 'p_1', price: 3 });
    assert.match(envelope.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-03$/);
    assert.ok(Math.abs(Date.parse(envelope.time) - Date.now()) < 5_000);
  });

  it('refuses what is not a Carotene event with INVALID_INPUT naming the event and attribute', () => {
    const cases: [object, RegExp][] = [
      [{ ...base, data: { case: 'textData', value: '{not json' } }, /^events\[0\]\.text_data: is not JSON/],
      [{ ...base }, /^events\[0\]\.data: is missing/],
      [{ ...base, data: { case: 'protoData', value: { typeUrl: 'x', value: new Uint8Array() } } }, /^events\[0\]\.proto_data:/],
      [
        { ...base, data: { case: 'textData', value: '{}' }, attributes: { time: { attr: { case: 'ceBoolean', value: true } } } },
        /^events\[0\]\.attributes\.time:/,
      ],
      [
        { ...base, data: { case: 'textData', value: '{}' }, attributes: { schemaversion: { attr: { case: 'ceInteger', value: 0 } } } },
        /^events\[0\]\.attributes\.schemaversion:/,
      ],
      [
        { ...base, data: { case: 'textData', value: '{}' }, attributes: { subject: { attr: { case: 'ceInteger', value: 1 } } } },
        /^events\[0\]\.attributes\.subject:/,
      ],
    ];
    for (const [message, why] of cases) {
      assert.throws(
        () => decode(wire([message])),
        (err: unknown) => isCaroteneError(err, 'INVALID_INPUT') && why.test(err.message),
        `expected ${why}`,
      );
    }
  });
});
