import { create, createFileRegistry, type DescFile, type DescMessage, type DescService, type MessageInitShape } from '@bufbuild/protobuf';
import {
  file_google_protobuf_any,
  file_google_protobuf_timestamp,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
  type DescriptorProtoSchema,
  type FieldDescriptorProtoSchema,
} from '@bufbuild/protobuf/wkt';

/**
 * Descriptors of the two standard protocols every Carotene service speaks beside its
 * contract, built here from their published .proto files (the fields and numbers are theirs):
 * `grpc.health.v1` (grpc/health/v1/health.proto) and `google.rpc.ErrorInfo`
 * (google/rpc/error_details.proto), which carries a Carotene error's code in the status details.
 */

type FieldInit = MessageInitShape<typeof FieldDescriptorProtoSchema>;
type MessageInit = MessageInitShape<typeof DescriptorProtoSchema>;

const {
  STRING: TYPE_STRING,
  ENUM: TYPE_ENUM,
  MESSAGE: TYPE_MESSAGE,
  BOOL: TYPE_BOOL,
  INT32: TYPE_INT32,
  UINT32: TYPE_UINT32,
  BYTES: TYPE_BYTES,
} = FieldDescriptorProto_Type;
const { OPTIONAL, REPEATED } = FieldDescriptorProto_Label;

function field(
  name: string,
  number: number,
  type: FieldDescriptorProto_Type,
  extra: { typeName?: string; label?: FieldDescriptorProto_Label; oneofIndex?: number } = {},
): FieldInit {
  return { name, number, type, label: OPTIONAL, jsonName: name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), ...extra };
}

/** Files a descriptor built here may import: the well-known types used, and every file built before it. */
const IMPORTABLE = new Map<string, DescFile>([
  [file_google_protobuf_any.proto.name, file_google_protobuf_any],
  [file_google_protobuf_timestamp.proto.name, file_google_protobuf_timestamp],
]);

function file(name: string, pkg: string, messages: MessageInit[], extra: Record<string, unknown> = {}): DescFile {
  const proto = create(FileDescriptorProtoSchema, { name, package: pkg, syntax: 'proto3', messageType: messages, ...extra });
  const registry = createFileRegistry(proto, (dependency) => IMPORTABLE.get(dependency));
  const desc = registry.getFile(name);
  if (!desc) throw new Error(`descriptor ${name} did not build`);
  // a later file may import this one
  IMPORTABLE.set(name, desc);
  return desc;
}

/** grpc/health/v1/health.proto: `Check`, and `Watch` (a stream of the status, sent again when it changes). */
export const healthFile: DescFile = file(
  'grpc/health/v1/health.proto',
  'grpc.health.v1',
  [
    { name: 'HealthCheckRequest', field: [field('service', 1, TYPE_STRING)] },
    {
      name: 'HealthCheckResponse',
      field: [field('status', 1, TYPE_ENUM, { typeName: '.grpc.health.v1.HealthCheckResponse.ServingStatus' })],
      enumType: [
        {
          name: 'ServingStatus',
          value: [
            { name: 'UNKNOWN', number: 0 },
            { name: 'SERVING', number: 1 },
            { name: 'NOT_SERVING', number: 2 },
            { name: 'SERVICE_UNKNOWN', number: 3 },
          ],
        },
      ],
    },
  ],
  {
    service: [
      {
        name: 'Health',
        method: [
          { name: 'Check', inputType: '.grpc.health.v1.HealthCheckRequest', outputType: '.grpc.health.v1.HealthCheckResponse' },
          { name: 'Watch', inputType: '.grpc.health.v1.HealthCheckRequest', outputType: '.grpc.health.v1.HealthCheckResponse', serverStreaming: true },
        ],
      },
    ],
  },
);

export const HealthService: DescService = healthFile.services[0]!;

/** `HealthCheckResponse.ServingStatus` values. */
export const SERVING_STATUS = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;

/** google/rpc/error_details.proto, the one message Carotene uses of it. */
export const errorDetailsFile: DescFile = file('google/rpc/error_details.proto', 'google.rpc', [
  {
    name: 'ErrorInfo',
    field: [
      field('reason', 1, TYPE_STRING),
      field('domain', 2, TYPE_STRING),
      field('metadata', 3, TYPE_MESSAGE, { label: REPEATED, typeName: '.google.rpc.ErrorInfo.MetadataEntry' }),
    ],
    nestedType: [{ name: 'MetadataEntry', field: [field('key', 1, TYPE_STRING), field('value', 2, TYPE_STRING)], options: { mapEntry: true } }],
  },
]);

export const ErrorInfoSchema: DescMessage = errorDetailsFile.messages[0]!;

/** The shape of a `google.rpc.ErrorInfo` (as Connect's error details give it). */
export interface ErrorInfo {
  readonly reason: string;
  readonly domain: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** carotene/events/v1/cloudevents.proto, the CloudEvents Protobuf Format (its text: `@carotene/runtime/grpc`'s CLOUDEVENTS_PROTO). */
export const cloudEventsFile: DescFile = file(
  'carotene/events/v1/cloudevents.proto',
  'io.cloudevents.v1',
  [
    {
      name: 'CloudEvent',
      field: [
        field('id', 1, TYPE_STRING),
        field('source', 2, TYPE_STRING),
        field('spec_version', 3, TYPE_STRING),
        field('type', 4, TYPE_STRING),
        field('attributes', 5, TYPE_MESSAGE, { label: REPEATED, typeName: '.io.cloudevents.v1.CloudEvent.AttributesEntry' }),
        field('binary_data', 6, TYPE_BYTES, { oneofIndex: 0 }),
        field('text_data', 7, TYPE_STRING, { oneofIndex: 0 }),
        field('proto_data', 8, TYPE_MESSAGE, { typeName: '.google.protobuf.Any', oneofIndex: 0 }),
      ],
      oneofDecl: [{ name: 'data' }],
      nestedType: [
        {
          name: 'AttributesEntry',
          field: [field('key', 1, TYPE_STRING), field('value', 2, TYPE_MESSAGE, { typeName: '.io.cloudevents.v1.CloudEvent.CloudEventAttributeValue' })],
          options: { mapEntry: true },
        },
        {
          name: 'CloudEventAttributeValue',
          field: [
            field('ce_boolean', 1, TYPE_BOOL, { oneofIndex: 0 }),
            field('ce_integer', 2, TYPE_INT32, { oneofIndex: 0 }),
            field('ce_string', 3, TYPE_STRING, { oneofIndex: 0 }),
            field('ce_bytes', 4, TYPE_BYTES, { oneofIndex: 0 }),
            field('ce_uri', 5, TYPE_STRING, { oneofIndex: 0 }),
            field('ce_uri_ref', 6, TYPE_STRING, { oneofIndex: 0 }),
            field('ce_timestamp', 7, TYPE_MESSAGE, { typeName: '.google.protobuf.Timestamp', oneofIndex: 0 }),
          ],
          oneofDecl: [{ name: 'attr' }],
        },
      ],
    },
    { name: 'CloudEventBatch', field: [field('events', 1, TYPE_MESSAGE, { label: REPEATED, typeName: '.io.cloudevents.v1.CloudEvent' })] },
  ],
  { dependency: ['google/protobuf/any.proto', 'google/protobuf/timestamp.proto'] },
);

export const CloudEventSchema: DescMessage = cloudEventsFile.messages[0]!;

/** carotene/events/v1/events.proto: `Events.Deliver`, how events reach a subscriber over gRPC. */
export const eventsFile: DescFile = file(
  'carotene/events/v1/events.proto',
  'carotene.events.v1',
  [
    { name: 'DeliverRequest', field: [field('events', 1, TYPE_MESSAGE, { label: REPEATED, typeName: '.io.cloudevents.v1.CloudEvent' })] },
    { name: 'DeliverResponse', field: [field('accepted', 1, TYPE_UINT32)] },
  ],
  {
    dependency: ['carotene/events/v1/cloudevents.proto'],
    service: [
      { name: 'Events', method: [{ name: 'Deliver', inputType: '.carotene.events.v1.DeliverRequest', outputType: '.carotene.events.v1.DeliverResponse' }] },
    ],
  },
);

export const EventsService: DescService = eventsFile.services[0]!;
