import type { z } from 'zod';
import type { Table } from 'carotene/model';
import { platformError } from 'carotene/model';
import { SNAPSHOT_FORMAT, type ColumnDefault, type ColumnSchema, type ColumnType, type SchemaSnapshot, type TableSchema } from './schema-snapshot.ts';

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  format?: string;
  checks?: { _zod: { def: { check?: string; format?: string } } }[];
  entries?: Record<string, unknown>;
  values?: readonly unknown[];
  defaultValue?: unknown;
}

const defOf = (type: z.ZodType) => type._zod.def as unknown as Def;
// wrappers that change neither the stored value's kind nor whether it may be missing
const TRANSPARENT = new Set(['readonly', 'catch', 'nonoptional']);
const INTEGER_FORMATS = new Set(['safeint', 'int32', 'uint32']);

/**
 * The tables a service declares, as a schema snapshot: each zod column as the table
 * handles store it (strings and string enums as text, `.int()` numbers as integer, other
 * numbers as real, booleans as boolean; optional or nullable ones allow NULL). A column the
 * handles cannot store on both engines (objects, arrays, dates, bigints, unions of kinds)
 * is an INVALID_CONFIG error naming it.
 */
export function declaredSchema(service: string, tables: readonly Table[]): SchemaSnapshot {
  const schemas = tables.map(tableSchema).sort((a, b) => compare(a.name, b.name));
  const owners = new Map<string, string>();
  for (const t of schemas) {
    for (const i of t.indexes) {
      const other = owners.get(i.name);
      // both engines name indexes per schema, not per table
      if (other)
        throw platformError('INVALID_CONFIG', `service '${service}': tables '${other}' and '${t.name}' both have an index named '${i.name}'`, { service });
      owners.set(i.name, t.name);
    }
  }
  return { format: SNAPSHOT_FORMAT, service, tables: schemas };
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function tableSchema(table: Table): TableSchema {
  const shape = table.schema.shape as Record<string, z.ZodType>;
  const columns = Object.entries(shape).map(([name, type]) => columnSchema(`${table.name}.${name}`, name, type));
  const key = columns.find((c) => c.name === table.key);
  if (key?.nullable) throw platformError('INVALID_CONFIG', `${table.name}.${table.key} is the key, so it cannot be optional or nullable`);
  const indexes = [...(table.indexes ?? [])].sort((a, b) => compare(a.name, b.name)).map((i) => ({ name: i.name, columns: [...i.columns], unique: i.unique }));
  return { name: table.name, key: table.key, columns, indexes };
}

function columnSchema(where: string, name: string, type: z.ZodType): ColumnSchema {
  let nullable = false;
  let defaulted: ColumnDefault | undefined;
  let hasDefault = false;
  let def = defOf(type);
  for (;;) {
    if (def.type === 'optional') {
      // `.default(x).optional()` may still be missing; `.optional().default(x)` never is
      if (!hasDefault) nullable = true;
    } else if (def.type === 'nullable') {
      nullable = true;
    } else if (def.type === 'default' || def.type === 'prefault') {
      if (!hasDefault) defaulted = constantDefault(where, def);
      hasDefault = true;
    } else if (def.type === 'pipe') {
      // the handle stores what parsing gives: the output side of the pipe
      def = defOf(def.out!);
      continue;
    } else if (!TRANSPARENT.has(def.type)) {
      break;
    }
    def = defOf(def.innerType!);
  }
  const column: ColumnSchema = { name, type: storedType(where, def), nullable };
  return defaulted === undefined ? column : { ...column, default: defaulted };
}

function storedType(where: string, def: Def): ColumnType {
  switch (def.type) {
    case 'string':
      return 'text';
    case 'boolean':
      return 'boolean';
    case 'number': {
      const formats = [def.format, ...(def.checks ?? []).map((c) => c._zod.def.format)];
      return formats.some((f) => f !== undefined && INTEGER_FORMATS.has(f)) ? 'integer' : 'real';
    }
    case 'enum':
      return kindOf(where, Object.values(def.entries ?? {}));
    case 'literal':
      return kindOf(where, def.values ?? []);
  }
  throw unsupported(where, def.type);
}

function kindOf(where: string, values: readonly unknown[]): ColumnType {
  if (values.length > 0 && values.every((v) => typeof v === 'string')) return 'text';
  if (values.length > 0 && values.every((v) => Number.isInteger(v))) return 'integer';
  if (values.length > 0 && values.every((v) => typeof v === 'boolean')) return 'boolean';
  throw unsupported(where, 'mixed literal');
}

function constantDefault(where: string, def: Def): ColumnDefault | undefined {
  // zod calls a default function at each read: two reads that differ are not a constant
  const first = def.defaultValue;
  if (first === null) return undefined;
  if ((typeof first !== 'string' && typeof first !== 'number' && typeof first !== 'boolean') || first !== def.defaultValue || !isFiniteValue(first)) {
    throw platformError(
      'INVALID_CONFIG',
      `${where} has a default that is not a constant string, number or boolean; a generated migration needs a constant to fill existing rows (use a constant, or write the migration by hand)`,
    );
  }
  return first;
}

const isFiniteValue = (v: ColumnDefault) => typeof v !== 'number' || Number.isFinite(v);

function unsupported(where: string, kind: string) {
  return platformError(
    'INVALID_CONFIG',
    `${where} is a ${kind}; the table handles store only strings, numbers, booleans and enums of them, so a generated migration cannot type it (store it as a string, e.g. JSON you encode, or leave the table to hand-written migrations)`,
  );
}
