// Loads the Echo service definition from the proto text that payloads.ts holds.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ORDER_PROTO } from './payloads.ts';

export function loadEchoService(): { service: grpc.ServiceDefinition; Client: grpc.ServiceClientConstructor } {
  const dir = mkdtempSync(join(tmpdir(), 'carotene-bench-proto-'));
  try {
    const file = join(dir, 'echo.proto');
    writeFileSync(file, ORDER_PROTO);
    const definition = protoLoader.loadSync(file, { keepCase: true, defaults: true });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as { bench: { Echo: grpc.ServiceClientConstructor } };
    return { service: pkg.bench.Echo.service, Client: pkg.bench.Echo };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
