import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { platformError } from 'carotene/model';
import type { ProtoLock, ProtoLockEntry } from './types.ts';

/** Field numbers 19000-19999 belong to protobuf itself. */
const RESERVED_BY_PROTOBUF = { from: 19_000, to: 19_999 };
const MAX_FIELD_NUMBER = 536_870_911;

/** `proto/<contract>.lock.json` of a proto directory. */
export function protoLockFile(dir: string, contractName: string): string {
  return join(dir, `${contractName}.lock.json`);
}

/**
 * Reads `<dir>/<contract>.lock.json`; undefined when there is none. A file that is not a
 * lock throws INVALID_CONFIG naming it.
 *
 * ```ts
 * const lock = readProtoLock(process.env.CAROTENE_PROTO_DIR!, 'catalog');
 * ```
 */
export function readProtoLock(dir: string, contractName: string): ProtoLock | undefined {
  const file = protoLockFile(dir, contractName);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseProtoLock(text, file);
}

/** Parses a lock's JSON, refusing anything that is not one. */
export function parseProtoLock(text: string, file: string): ProtoLock {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw platformError('INVALID_CONFIG', `${file} is not JSON: ${(err as Error).message}`);
  }
  const problem = lockProblem(json);
  if (problem) throw platformError('INVALID_CONFIG', `${file} is not a protobuf lock (${problem}); write it with 'carrot contracts proto'`);
  return json as ProtoLock;
}

function lockProblem(json: unknown): string | undefined {
  const lock = json as Partial<ProtoLock> | null;
  if (typeof lock !== 'object' || lock === null || lock.version !== 1) return 'version is not 1';
  for (const part of ['messages', 'enums'] as const) {
    const entries = lock[part];
    if (typeof entries !== 'object' || entries === null) return `no ${part}`;
    for (const [name, e] of Object.entries(entries as Record<string, Partial<ProtoLockEntry>>)) {
      const ok =
        typeof e?.numbers === 'object' &&
        e.numbers !== null &&
        Object.values(e.numbers).every((n) => Number.isInteger(n) && n >= 0) &&
        Array.isArray(e.reserved?.numbers) &&
        e.reserved.numbers.every((n) => Number.isInteger(n)) &&
        Array.isArray(e.reserved?.names) &&
        e.reserved.names.every((n) => typeof n === 'string');
      if (!ok) return `${part}.${name} is not { numbers, reserved: { numbers, names } }`;
    }
  }
  return undefined;
}

/** The lock as the JSON text that is checked in: keys sorted, numbers in order, one trailing newline. */
export function formatProtoLock(lock: ProtoLock): string {
  const entries = (part: Readonly<Record<string, ProtoLockEntry>>) =>
    Object.fromEntries(
      Object.keys(part)
        .sort()
        .map((name) => {
          const e = part[name]!;
          const numbers = Object.fromEntries(Object.entries(e.numbers).sort(([a, x], [b, y]) => x - y || a.localeCompare(b)));
          return [name, { numbers, reserved: { numbers: [...e.reserved.numbers].sort((a, b) => a - b), names: [...e.reserved.names].sort() } }];
        }),
    );
  return `${JSON.stringify({ version: 1, messages: entries(lock.messages), enums: entries(lock.enums) }, null, 2)}\n`;
}

interface MutableEntry {
  numbers: Map<string, number>;
  reservedNumbers: Set<number>;
  reservedNames: Set<string>;
  /** names asked for in this generation; the others are removed */
  used: Set<string>;
  /** the first number an enum's values may take (0 is UNSPECIFIED) */
  first: number;
}

/** A lock being applied to one generation: hands out numbers and reserves what is no longer asked for. */
export class LockBook {
  readonly #messages = new Map<string, MutableEntry>();
  readonly #enums = new Map<string, MutableEntry>();
  readonly #frozen: boolean;

  constructor(lock: ProtoLock | undefined, frozen: boolean) {
    this.#frozen = frozen;
    for (const [part, target, first] of [
      [lock?.messages, this.#messages, 1],
      [lock?.enums, this.#enums, 1],
    ] as const) {
      for (const [name, e] of Object.entries(part ?? {})) {
        target.set(name, {
          numbers: new Map(Object.entries(e.numbers)),
          reservedNumbers: new Set(e.reserved.numbers),
          reservedNames: new Set(e.reserved.names),
          used: new Set(),
          first,
        });
      }
    }
  }

  /** The number of field `name` of message `message`; undefined when frozen and the lock has none. */
  field(message: string, name: string): number | undefined {
    return this.#number(this.#messages, message, name);
  }

  /** The number of enum value `name` of enum `enumName`. */
  enumValue(enumName: string, name: string): number | undefined {
    return this.#number(this.#enums, enumName, name);
  }

  /** Marks a message (or enum) as generated, so that an empty one keeps its entry. */
  touch(kind: 'message' | 'enum', name: string): void {
    this.#entry(kind === 'message' ? this.#messages : this.#enums, name);
  }

  /** Reserved numbers and names of a message or enum (after `finish`). */
  reserved(kind: 'message' | 'enum', name: string): { numbers: number[]; names: string[] } {
    const e = (kind === 'message' ? this.#messages : this.#enums).get(name);
    if (!e) return { numbers: [], names: [] };
    return { numbers: [...e.reservedNumbers].sort((a, b) => a - b), names: [...e.reservedNames].sort() };
  }

  /** Reserves every number and name no longer asked for, and returns the lock. */
  finish(): ProtoLock {
    const out = (entries: Map<string, MutableEntry>): Record<string, ProtoLockEntry> => {
      const result: Record<string, ProtoLockEntry> = {};
      for (const [name, e] of entries) {
        for (const [field, n] of [...e.numbers]) {
          if (e.used.has(field)) continue;
          e.numbers.delete(field);
          e.reservedNumbers.add(n);
          e.reservedNames.add(field);
        }
        result[name] = {
          numbers: Object.fromEntries([...e.numbers].sort(([, a], [, b]) => a - b)),
          reserved: { numbers: [...e.reservedNumbers].sort((a, b) => a - b), names: [...e.reservedNames].sort() },
        };
      }
      return result;
    };
    return { version: 1, messages: out(this.#messages), enums: out(this.#enums) };
  }

  #entry(entries: Map<string, MutableEntry>, name: string): MutableEntry {
    let e = entries.get(name);
    if (!e) {
      e = { numbers: new Map(), reservedNumbers: new Set(), reservedNames: new Set(), used: new Set(), first: 1 };
      entries.set(name, e);
    }
    return e;
  }

  #number(entries: Map<string, MutableEntry>, owner: string, name: string): number | undefined {
    const e = this.#entry(entries, owner);
    e.used.add(name);
    const known = e.numbers.get(name);
    if (known !== undefined) return known;
    if (this.#frozen) return undefined;
    // a re-added name gets a new number; only its old number stays reserved
    e.reservedNames.delete(name);
    let next = Math.max(e.first - 1, ...e.numbers.values(), ...e.reservedNumbers) + 1;
    if (next >= RESERVED_BY_PROTOBUF.from && next <= RESERVED_BY_PROTOBUF.to) next = RESERVED_BY_PROTOBUF.to + 1;
    if (next > MAX_FIELD_NUMBER) throw new RangeError(`${owner}: no field numbers left`);
    e.numbers.set(name, next);
    return next;
  }
}
