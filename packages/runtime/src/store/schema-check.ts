import type { AnyDb } from 'carotene/model';
import type { Table } from 'carotene/model';
import { platformError } from 'carotene/model';
import type { StoreEngine } from './driver.ts';
import { declaredSchema } from './schema-declared.ts';
import { readSchema, type DatabaseTable } from './schema-introspect.ts';
import type { ColumnType, SchemaSnapshot } from './schema-snapshot.ts';

/** Carotene's own tables (outbox, inbox, sagas, migrations) share the database; they are not declared. */
const PLATFORM_PREFIX = 'carotene_';

/**
 * Refuses a database whose structure differs from the tables a service declares: every
 * declared table, column (its kind and whether it allows NULL), primary key and index must
 * be there, and nothing else. Data is not looked at, so hand-written migrations that change
 * data (or add partial indexes) pass. Throws SCHEMA_MISMATCH naming each difference.
 *
 * ```ts
 * await migrate(store.db, def.migrations, def.name);
 * await checkSchema(store.db, store.kind, def.name, def.stores);
 * ```
 */
export async function checkSchema(db: AnyDb, engine: StoreEngine, service: string, tables: readonly Table[]): Promise<void> {
  const found = schemaMismatches(declaredSchema(service, tables), await readSchema(db, engine), engine);
  if (found.length === 0) return;
  throw platformError(
    'SCHEMA_MISMATCH',
    `service '${service}' refuses to start: its database does not match its declared tables: ${found.join('; ')}; run \`carrot migrations make ${service}\` (or correct the hand-written migration that made it so)`,
    { service, details: { mismatches: found } },
  );
}

/** Each difference between the declared tables and the database's, as a sentence. */
export function schemaMismatches(declared: SchemaSnapshot, actual: readonly DatabaseTable[], engine: StoreEngine): string[] {
  const out: string[] = [];
  const tables = new Map(actual.map((t) => [t.name, t]));
  for (const t of declared.tables) {
    const db = tables.get(t.name);
    if (!db) {
      out.push(`table '${t.name}' is declared but the database has no such table`);
      continue;
    }
    const columns = new Map(db.columns.map((c) => [c.name, c]));
    for (const c of t.columns) {
      const d = columns.get(c.name);
      if (!d) out.push(`${t.name}.${c.name} is declared but the database has no such column`);
      else if (!storesAs(c.type, d.sqlType, engine)) out.push(`${t.name}.${c.name} is declared as ${c.type} but the database has it as ${d.sqlType}`);
      // a key is never NULL, whatever SQLite's table_info says of a TEXT PRIMARY KEY
      else if (c.name !== t.key && c.nullable !== d.nullable) {
        out.push(`${t.name}.${c.name} is declared ${c.nullable ? 'nullable' : 'NOT NULL'} but the database has it ${d.nullable ? 'nullable' : 'NOT NULL'}`);
      }
    }
    for (const d of db.columns) if (!t.columns.some((c) => c.name === d.name)) out.push(`${t.name}.${d.name} is in the database but not declared`);
    if (db.primaryKey.join(',') !== t.key) out.push(`${t.name}'s key is declared as (${t.key}) but the database has (${db.primaryKey.join(', ')})`);
    // by columns and uniqueness, not name: a hand-written unique constraint is as good as a unique index
    const shape = (i: { columns: readonly string[]; unique: boolean }) => `${i.unique ? 'unique ' : ''}(${i.columns.join(', ')})`;
    const have = db.indexes.map(shape);
    const want = t.indexes.map(shape);
    for (const i of t.indexes)
      if (!have.includes(shape(i))) out.push(`index ${i.name} on ${t.name} ${shape(i)} is declared but the database has no such index`);
    for (const i of db.indexes) if (!want.includes(shape(i))) out.push(`the database has index ${i.name} on ${t.name} ${shape(i)}, which is not declared`);
  }
  for (const t of actual) {
    if (t.name.startsWith(PLATFORM_PREFIX) || declared.tables.some((d) => d.name === t.name)) continue;
    out.push(`table '${t.name}' is in the database but not declared`);
  }
  return out;
}

/** Whether a column of `sqlType` holds what the handles store for `type` (INTEGER or BIGINT alike). */
export function storesAs(type: ColumnType, sqlType: string, engine: StoreEngine): boolean {
  if (engine === 'postgres') {
    const t = sqlType.toLowerCase();
    if (type === 'text') return t === 'text' || t === 'character varying' || t === 'character';
    if (type === 'integer') return t === 'bigint' || t === 'integer' || t === 'smallint';
    if (type === 'real') return t === 'double precision' || t === 'real' || t === 'numeric';
    return t === 'boolean';
  }
  const affinity = sqliteAffinity(sqlType);
  if (type === 'boolean') return affinity === 'INTEGER' || affinity === 'NUMERIC';
  return affinity === { text: 'TEXT', integer: 'INTEGER', real: 'REAL' }[type];
}

/** SQLite's rules for a declared column type's affinity (sqlite.org/datatype3.html, 3.1). */
function sqliteAffinity(sqlType: string): 'INTEGER' | 'TEXT' | 'BLOB' | 'REAL' | 'NUMERIC' {
  const t = sqlType.toUpperCase();
  if (t.includes('INT')) return 'INTEGER';
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'TEXT';
  if (t.includes('BLOB') || t === '') return 'BLOB';
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'REAL';
  return 'NUMERIC';
}
