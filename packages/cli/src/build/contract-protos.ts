import type { AppDef, Contract } from 'carotene/model';
import { externalServices } from 'carotene/model';
import { contractProto, EVENT_PROTO_FILES, formatProtoLock, type ProtoLock } from '@carotene/runtime/grpc';
import { jsonSchemaOf } from './contract-snapshot.ts';

/** The folder beside the app module that holds each contract's `.proto`, lock and JSON Schema. */
export const PROTO_DIR = 'proto';

/**
 * Every contract of the app: the services' own and those they integrate with, one per name,
 * sorted. A service's own contract wins over an integration's copy of the same name.
 */
export function appContracts(app: AppDef): Contract[] {
  const byName = new Map<string, Contract>();
  for (const s of app.services) byName.set(s.contract.name, s.contract);
  for (const s of app.services) for (const c of s.integrations) if (!byName.has(c.name)) byName.set(c.name, c);
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The files of the proto folder, by path, in path order: per contract `<name>.proto`,
 * `<name>.lock.json` and `<name>.schema.json` (every function's input and output as JSON
 * Schema), and when a service in another language publishes or subscribes to events, the
 * two files of event delivery (`carotene/events/v1/events.proto` and the CloudEvents format
 * it imports). `frozen` refuses a field the lock lacks (what `carrot build` does); otherwise
 * new fields get new numbers. Throws ProtoMappingError (INVALID_CONFIG) for what cannot map.
 */
export function protoFiles(app: AppDef, lockOf: (contract: string) => ProtoLock | undefined, frozen: boolean): Map<string, string> {
  const files = new Map<string, string>();
  for (const contract of appContracts(app)) for (const [name, text] of contractFiles(contract, lockOf(contract.name), frozen)) files.set(name, text);
  if (externalServices(app).some((s) => s.publishes.length > 0 || s.subscribes.length > 0)) for (const [path, text] of EVENT_PROTO_FILES) files.set(path, text);
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** One contract's three files of the proto folder, by file name. */
export function contractFiles(contract: Contract, lock: ProtoLock | undefined, frozen: boolean): Map<string, string> {
  const proto = contractProto(contract, { lock, frozen });
  return new Map([
    [`${contract.name}.lock.json`, formatProtoLock(proto.lock)],
    [`${contract.name}.proto`, proto.text],
    [`${contract.name}.schema.json`, `${JSON.stringify(contractJsonSchema(contract), null, 2)}\n`],
  ]);
}

/** Per function, the JSON Schema of what a caller sends (input side) and what comes back (output side). */
export function contractJsonSchema(contract: Contract): { contract: string; functions: Record<string, { input: unknown; output: unknown }> } {
  const functions: Record<string, { input: unknown; output: unknown }> = {};
  for (const name of Object.keys(contract.functions).sort()) {
    const fn = contract.functions[name]!;
    functions[name] = { input: jsonSchemaOf(fn.input, 'input'), output: jsonSchemaOf(fn.output, 'output') };
  }
  return { contract: contract.name, functions };
}
