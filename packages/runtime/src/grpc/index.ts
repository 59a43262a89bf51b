// @carotene/runtime/grpc: protobuf from contracts. Each contract is the source of truth; its
// `.proto`, descriptors and codecs are generated from it with field numbers from a checked-in lock.
export { contractProto } from './contract-proto.ts';
export { defaultJsonName, pascalCase, protoPackage, snakeCase } from './naming.ts';
export { formatProtoLock, parseProtoLock, protoLockFile, readProtoLock } from './proto-lock.ts';
export { ProtoMappingError } from './proto-mapping-error.ts';
export type { ContractProto, ContractProtoOptions, MessageCodec, ProtoFunction, ProtoLock, ProtoLockEntry } from './types.ts';
export { CLOUDEVENTS_PROTO, CLOUDEVENTS_PROTO_PATH, EVENT_PROTO_FILES, EVENTS_PROTO, EVENTS_PROTO_PATH } from './events-proto.ts';
