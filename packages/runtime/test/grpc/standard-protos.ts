// The .proto files a standard client needs beside the contract's: the health protocol and
// google.rpc.Status / ErrorInfo (the parts Carotene uses, fields and numbers as published),
// and protoc to turn them into Python stubs.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const HEALTH_PROTO = `syntax = "proto3";
package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse {
  enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
  ServingStatus status = 1;
}
service Health {
  rpc Check(HealthCheckRequest) returns (HealthCheckResponse);
  rpc Watch(HealthCheckRequest) returns (stream HealthCheckResponse);
}
`;

const STATUS_PROTO = `syntax = "proto3";
package google.rpc;
import "google/protobuf/any.proto";
message Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
`;

const ERROR_DETAILS_PROTO = `syntax = "proto3";
package google.rpc;
message ErrorInfo { string reason = 1; string domain = 2; map<string, string> metadata = 3; }
`;

export const PYTHON = '/usr/bin/python3';
export const PROTOC = '/usr/bin/protoc';
export const GRPC_PYTHON_PLUGIN = '/usr/bin/grpc_python_plugin';
/** What the events' cloudevents.proto imports (google/protobuf/timestamp.proto, any.proto). */
export const WELL_KNOWN_TYPES = '/usr/include/google/protobuf/timestamp.proto';

/** Why a Python gRPC client cannot run here, or undefined when it can. */
export function pythonGrpcMissing(): string | undefined {
  for (const tool of [PYTHON, PROTOC, GRPC_PYTHON_PLUGIN]) if (!existsSync(tool)) return `${tool} is missing`;
  if (!existsSync(WELL_KNOWN_TYPES)) return `${WELL_KNOWN_TYPES} is missing (Debian: libprotobuf-dev)`;
  try {
    execFileSync(PYTHON, ['-c', 'import grpc, google.protobuf'], { stdio: 'pipe' });
  } catch {
    return `${PYTHON} has no grpcio/protobuf (Debian: python3-grpcio python3-protobuf)`;
  }
  return undefined;
}

/** Writes the contract's .proto files and the standard ones under `dir`, and generates Python stubs there. */
export function pythonStubs(dir: string, protos: Readonly<Record<string, string>>): void {
  const files = { ...protos, 'health.proto': HEALTH_PROTO, 'google/rpc/status.proto': STATUS_PROTO, 'google/rpc/error_details.proto': ERROR_DETAILS_PROTO };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  execFileSync(
    PROTOC,
    [
      `--plugin=protoc-gen-grpc_python=${GRPC_PYTHON_PLUGIN}`,
      `-I${dir}`,
      '-I/usr/include',
      `--python_out=${dir}`,
      `--grpc_python_out=${dir}`,
      ...Object.keys(files),
    ],
    { stdio: 'pipe' },
  );
}
