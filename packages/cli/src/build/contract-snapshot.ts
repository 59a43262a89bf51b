import { z } from 'zod';
import type { AppDef, Compatibility } from 'carotene/model';
import { eventsOf, sortedServices } from './app-graph.ts';
import { breakingChanges, type JsonSchema } from './schema-diff.ts';
import type { BuildProblem } from './rules/build-problem.ts';

/** One released state of the app's contracts: every function's and event's schemas, as JSON Schema, and how each may change. */
export interface ContractSnapshot {
  readonly services: Readonly<Record<string, ServiceSnapshot>>;
}

export interface ServiceSnapshot {
  /** Absent in a snapshot written before modes existed: `backward`. */
  readonly compatibility?: Compatibility;
  readonly functions: Readonly<Record<string, { readonly input: JsonSchema; readonly output: JsonSchema; readonly errors: readonly string[] }>>;
  readonly events: Readonly<Record<string, { readonly version: number; readonly compatibility?: Compatibility; readonly data: JsonSchema }>>;
}

/**
 * What `carrot contracts snapshot` keeps: every released state, oldest first (`release`
 * numbered from 1). `carrot build` checks the app against the last one.
 */
export interface SnapshotHistory {
  readonly snapshotVersion: 2;
  readonly app: string;
  readonly releases: readonly (ContractSnapshot & { readonly release: number })[];
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
      events[e.name] = { version: e.version, compatibility: e.compatibility ?? 'backward', data: jsonSchemaOf(e.schema, 'output') };
    }
    services[s.name] = { compatibility: s.contract.compatibility ?? 'backward', functions, events };
  }
  return { services };
}

/** The history with the app's current state as its next release, or unchanged when the last release already is that state. */
export function withRelease(history: SnapshotHistory | undefined, app: AppDef): { history: SnapshotHistory; added: boolean } {
  const now = snapshotContracts(app);
  const releases = history?.releases ?? [];
  const last = releases.at(-1);
  if (last && JSON.stringify(last.services) === JSON.stringify(now.services)) return { history: history!, added: false };
  return { history: { snapshotVersion: 2, app: app.name, releases: [...releases, { release: (last?.release ?? 0) + 1, ...now }] }, added: true };
}

/** Why a mode refuses what it refuses, as the build's messages say it. */
const BREAKS: Readonly<Record<'backward' | 'forward', string>> = {
  backward: 'breaks backward compatibility: the new version must read what was written against the released one',
  forward: 'breaks forward compatibility: the released version must read what the new one writes',
};

function directions(mode: Compatibility): ('backward' | 'forward')[] {
  return mode === 'full' ? ['backward', 'forward'] : mode === 'none' ? [] : [mode];
}

/**
 * The changes of the app's contracts since the released state `saved` that its declared
 * compatibility modes refuse (each contract's and event's mode as declared now; see
 * `Compatibility`): every schema of a function (its input and its output) and every event's
 * data is checked in the mode's directions. A removed service, function or event breaks
 * every mode but `none`; a new event `version` is the declared way to break its data.
 */
export function contractChanges(saved: ContractSnapshot, now: ContractSnapshot): BuildProblem[] {
  const problems: BuildProblem[] = [];
  const push = (where: string, message: string): void => {
    problems.push({ rule: 'breaking-change', where, message });
  };
  const check = (where: string, side: string, before: JsonSchema, after: JsonSchema, mode: Compatibility): void => {
    for (const direction of directions(mode)) {
      for (const c of breakingChanges(before, after, direction)) push(where, `${side} ${c.path}: ${c.message} (${mode}: ${BREAKS[direction]})`);
    }
  };
  for (const [service, before] of Object.entries(saved.services).sort(([a], [b]) => a.localeCompare(b))) {
    const after = now.services[service];
    if (!after) {
      if (before.compatibility !== 'none') push(`service '${service}'`, 'was removed since the released contract snapshot');
      continue;
    }
    const mode = after.compatibility ?? 'backward';
    for (const [fn, old] of Object.entries(before.functions).sort(([a], [b]) => a.localeCompare(b))) {
      const next = after.functions[fn];
      const where = `service '${service}', function '${fn}'`;
      if (!next) {
        if (mode !== 'none') push(where, 'function removed since the released contract snapshot');
        continue;
      }
      check(where, 'input', old.input, next.input, mode);
      check(where, 'output', old.output, next.output, mode);
    }
    for (const [name, old] of Object.entries(before.events ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      const next = after.events?.[name];
      const where = `service '${service}', event '${name}'`;
      if (!next) {
        if ((old.compatibility ?? 'backward') !== 'none') push(where, 'event removed since the released contract snapshot');
        continue;
      }
      if (next.version !== old.version) continue; // a new version is the declared way to break an event
      check(where, 'data', old.data, next.data, next.compatibility ?? 'backward');
    }
  }
  return problems;
}

/**
 * Reads a snapshot file's JSON, refusing anything that is not one. A file of the first
 * format (one state, `snapshotVersion: 1`) reads as a history of that one release.
 */
export function parseSnapshot(text: string, file: string): SnapshotHistory {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TypeError(`${file} is not JSON: ${(err as Error).message}`);
  }
  const s = json as { snapshotVersion?: unknown; app?: unknown; services?: unknown; releases?: unknown } | null;
  const isState = (v: unknown): v is ContractSnapshot =>
    typeof (v as ContractSnapshot | null)?.services === 'object' && (v as ContractSnapshot).services !== null;
  const app = String(s?.app);
  if (s?.snapshotVersion === 1 && isState(s)) return { snapshotVersion: 2, app, releases: [{ release: 1, services: s.services }] };
  if (s?.snapshotVersion === 2 && Array.isArray(s.releases) && s.releases.length > 0 && s.releases.every(isState)) return s as SnapshotHistory;
  throw new TypeError(`${file} is not a contract snapshot (write one with 'carrot contracts snapshot')`);
}

/** The last release of a history: what `carrot build` checks against. */
export function latestRelease(history: SnapshotHistory): ContractSnapshot {
  return history.releases.at(-1)!;
}
