import { create, createFileRegistry, type DescFile, type DescMessage, type DescService, type MessageInitShape } from '@bufbuild/protobuf';
import {
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

const { STRING: TYPE_STRING, ENUM: TYPE_ENUM, MESSAGE: TYPE_MESSAGE } = FieldDescriptorProto_Type;
const { OPTIONAL, REPEATED } = FieldDescriptorProto_Label;

function field(
  name: string,
  number: number,
  type: FieldDescriptorProto_Type,
  extra: { typeName?: string; label?: FieldDescriptorProto_Label } = {},
): FieldInit {
  return { name, number, type, label: OPTIONAL, jsonName: name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), ...extra };
}

function file(name: string, pkg: string, messages: MessageInit[], extra: Record<string, unknown> = {}): DescFile {
  const proto = create(FileDescriptorProtoSchema, { name, package: pkg, syntax: 'proto3', messageType: messages, ...extra });
  const registry = createFileRegistry(proto, () => undefined);
  const desc = registry.getFile(name);
  if (!desc) throw new Error(`descriptor ${name} did not build`);
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
