import { z } from 'zod';
import type { AppDef } from 'carotene/model';
import { eventsOf, sortedServices } from './app-graph.ts';
import { breakingChanges, type JsonSchema } from './schema-diff.ts';
import type { BuildProblem } from './rules/build-problem.ts';

/** What `carrot contracts snapshot` saves: every function's and event's schemas, as JSON Schema. */
export interface ContractSnapshot {
  readonly snapshotVersion: 1;
  readonly app: string;
  readonly services: Readonly<Record<string, ServiceSnapshot>>;
}

export interface ServiceSnapshot {
  readonly functions: Readonly<Record<string, { readonly input: JsonSchema; readonly output: JsonSchema; readonly errors: readonly string[] }>>;
  readonly events: Readonly<Record<string, { readonly version: number; readonly data: JsonSchema }>>;
}

/** Default file of the snapshot, beside the app module. */
export const SNAPSHOT_FILE = 'contracts.snapshot.json';

/** JSON Schema of one side of a zod schema; what JSON Schema cannot say becomes "any value". */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete json.$schema;
  return json as JsonSchema;
}

export function snapshotContracts(app: AppDef): ContractSnapshot {
  const services: Record<string, ServiceSnapshot> = {};
  for (const s of sortedServices(app)) {
    const functions: Record<string, ServiceSnapshot['functions'][string]> = {};
    for (const name of Object.keys(s.contract.functions).sort()) {
      const fn = s.contract.functions[name]!;
      functions[name] = { input: jsonSchemaOf(fn.input, 'input'), output: jsonSchemaOf(fn.output, 'output'), errors: Object.keys(fn.errors).sort() };
    }
    const events: Record<string, ServiceSnapshot['events'][string]> = {};
    for (const e of [...eventsOf(s).publishes].sort((a, b) => a.name.localeCompare(b.name))) {
      events[e.name] = { version: e.version, data: jsonSchemaOf(e.schema, 'output') };
    }
    services[s.name] = { functions, events };
  }
  return { snapshotVersion: 1, app: app.name, services };
}

/**
 * The breaking changes of the app's contracts since `saved`: a removed service, function,
 * event or field, an input field made required, an input narrowed or an output widened.
 * Event data counts as output (subscribers read it).
 */
export function contractChanges(saved: ContractSnapshot, now: ContractSnapshot): BuildProblem[] {
  const problems: BuildProblem[] = [];
  const push = (where: string, message: string): void => {
    problems.push({ rule: 'breaking-change', where, message });
  };
  for (const [service, before] of Object.entries(saved.services).sort(([a], [b]) => a.localeCompare(b))) {
    const after = now.services[service];
    if (!after) {
      push(`service '${service}'`, 'was removed since the saved contract snapshot');
      continue;
    }
    for (const [fn, old] of Object.entries(before.functions).sort(([a], [b]) => a.localeCompare(b))) {
      const next = after.functions[fn];
      const where = `service '${service}', function '${fn}'`;
      if (!next) {
        push(where, 'function removed since the saved contract snapshot');
        continue;
      }
      for (const c of breakingChanges(old.input, next.input, 'input')) push(where, `input ${c.path}: ${c.message}`);
      for (const c of breakingChanges(old.output, next.output, 'output')) push(where, `output ${c.path}: ${c.message}`);
    }
    for (const [name, old] of Object.entries(before.events ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      const next = after.events?.[name];
      const where = `service '${service}', event '${name}'`;
      if (!next) {
        push(where, 'event removed since the saved contract snapshot');
        continue;
      }
      if (next.version !== old.version) continue; // a new version is the declared way to break an event
      for (const c of breakingChanges(old.data, next.data, 'output')) push(where, `data ${c.path}: ${c.message}`);
    }
  }
  return problems;
}

/** Reads a snapshot file's JSON, refusing anything that is not one. */
export function parseSnapshot(text: string, file: string): ContractSnapshot {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TypeError(`${file} is not JSON: ${(err as Error).message}`);
  }
  const s = json as Partial<ContractSnapshot> | null;
  if (s?.snapshotVersion !== 1 || typeof s.services !== 'object' || s.services === null) {
    throw new TypeError(`${file} is not a contract snapshot (write one with 'carrot contracts snapshot')`);
  }
  return s as ContractSnapshot;
}
