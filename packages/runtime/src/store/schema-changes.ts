import { platformError } from 'carotene/model';
import { compare } from './schema-declared.ts';
import type { ColumnSchema, IndexSchema, SchemaSnapshot, TableSchema } from './schema-snapshot.ts';

/** One step from one snapshot to the next; {@link schemaSql} spells it per engine. */
export type SchemaChange =
  | { readonly kind: 'createTable'; readonly table: TableSchema }
  | { readonly kind: 'dropTable'; readonly table: string }
  | { readonly kind: 'addColumn'; readonly table: string; readonly column: ColumnSchema }
  | { readonly kind: 'dropColumn'; readonly table: string; readonly column: string }
  | { readonly kind: 'createIndex'; readonly table: string; readonly index: IndexSchema }
  | { readonly kind: 'dropIndex'; readonly table: string; readonly index: string };

/**
 * What turns the tables of `before` into those of `after`, in the order it must run:
 * dropped tables, created tables, then per table its dropped indexes, dropped columns,
 * added columns and created indexes. Empty when nothing changed. A change that would lose
 * or rewrite data in place (a column's type, nullability or the key; a required column
 * with no default added to rows that exist) is an UNSAFE_SCHEMA_CHANGE error naming it.
 *
 * ```ts
 * const changes = schemaChanges(previousSnapshot, declaredSchema('orders', def.stores));
 * ```
 */
export function schemaChanges(before: SchemaSnapshot, after: SchemaSnapshot): SchemaChange[] {
  const service = after.service;
  const old = new Map(before.tables.map((t) => [t.name, t]));
  const now = new Map(after.tables.map((t) => [t.name, t]));
  const changes: SchemaChange[] = [];
  for (const name of [...old.keys()].sort(compare)) if (!now.has(name)) changes.push({ kind: 'dropTable', table: name });
  for (const t of after.tables) if (!old.has(t.name)) changes.push({ kind: 'createTable', table: t });
  for (const t of after.tables) {
    const was = old.get(t.name);
    if (was) changes.push(...tableChanges(service, was, t));
  }
  return changes;
}

function tableChanges(service: string, was: TableSchema, t: TableSchema): SchemaChange[] {
  const table = t.name;
  if (was.key !== t.key) throw unsafe(service, `${table}'s key changes from '${was.key}' to '${t.key}'`);
  const oldColumns = new Map(was.columns.map((c) => [c.name, c]));
  const newColumns = new Map(t.columns.map((c) => [c.name, c]));
  for (const c of t.columns) {
    const o = oldColumns.get(c.name);
    if (!o) continue;
    if (o.type !== c.type) throw unsafe(service, `${table}.${c.name} changes type from ${o.type} to ${c.type}`);
    if (o.nullable !== c.nullable) throw unsafe(service, `${table}.${c.name} changes from ${nullability(o)} to ${nullability(c)}`);
  }
  const oldIndexes = new Map(was.indexes.map((i) => [i.name, i]));
  const newIndexes = new Map(t.indexes.map((i) => [i.name, i]));
  const changed = (i: IndexSchema) => {
    const o = oldIndexes.get(i.name);
    return o !== undefined && (o.unique !== i.unique || o.columns.join('\0') !== i.columns.join('\0'));
  };
  const changes: SchemaChange[] = [];
  // an index that changes is dropped and made again, before the columns it may name go
  for (const i of was.indexes) if (!newIndexes.has(i.name) || changed(newIndexes.get(i.name)!)) changes.push({ kind: 'dropIndex', table, index: i.name });
  for (const c of was.columns) if (!newColumns.has(c.name)) changes.push({ kind: 'dropColumn', table, column: c.name });
  for (const c of t.columns) {
    if (oldColumns.has(c.name)) continue;
    if (!c.nullable && c.default === undefined) {
      throw unsafe(
        service,
        `${table}.${c.name} is added as required with no default, and rows that exist have no value for it; make it optional or nullable, or give it a constant .default(...)`,
      );
    }
    changes.push({ kind: 'addColumn', table, column: c });
  }
  for (const i of t.indexes) if (!oldIndexes.has(i.name) || changed(i)) changes.push({ kind: 'createIndex', table, index: i });
  return changes;
}

const nullability = (c: ColumnSchema) => (c.nullable ? 'nullable' : 'required');

function unsafe(service: string, what: string) {
  return platformError(
    'UNSAFE_SCHEMA_CHANGE',
    `service '${service}': ${what}; a generated migration cannot make this change safely. Write a hand-written migration for it (see docs/stores.md, "Changes a generated migration cannot make")`,
    { service, details: { change: what } },
  );
}

/** A short name for a set of changes, for the migration's file name (`add_orders_status`). */
export function changesSlug(changes: readonly SchemaChange[]): string {
  const slug = (c: SchemaChange): string => {
    switch (c.kind) {
      case 'createTable':
        return `create_${c.table.name}`;
      case 'dropTable':
        return `drop_${c.table}`;
      case 'addColumn':
        return `add_${c.table}_${c.column.name}`;
      case 'dropColumn':
        return `drop_${c.table}_${c.column}`;
      case 'createIndex':
        return `index_${c.index.name}`;
      case 'dropIndex':
        return `drop_${c.index}`;
    }
  };
  const tables = new Set(changes.map((c) => (c.kind === 'createTable' ? c.table.name : c.table)));
  const name = changes.length === 1 ? slug(changes[0]!) : tables.size === 1 ? `change_${[...tables][0]}` : 'schema';
  return name.slice(0, 48);
}
