import type { AnyDb } from 'carotene/model';
import { sql } from 'kysely';
import type { StoreEngine } from './driver.ts';

export interface DatabaseColumn {
  readonly name: string;
  /** As the database spells it (`INTEGER`, `character varying`). */
  readonly sqlType: string;
  readonly nullable: boolean;
}

export interface DatabaseIndex {
  readonly name: string;
  readonly columns: readonly string[];
  readonly unique: boolean;
}

/** One table as the database has it: what the schema check compares with the declaration. */
export interface DatabaseTable {
  readonly name: string;
  readonly columns: readonly DatabaseColumn[];
  readonly primaryKey: readonly string[];
  /** Indexes on plain columns, unique constraints among them; not the primary key's. */
  readonly indexes: readonly DatabaseIndex[];
}

/**
 * Reads the tables of a database: SQLite through its pragmas, PostgreSQL through
 * `information_schema` (and `pg_index`, which has no standard view), in the current schema.
 * Partial and expression indexes are left out: declarations cannot express them, so they
 * stay free for hand-written migrations.
 */
export async function readSchema(db: AnyDb, engine: StoreEngine): Promise<DatabaseTable[]> {
  return engine === 'sqlite' ? readSqlite(db) : readPostgres(db);
}

async function readSqlite(db: AnyDb): Promise<DatabaseTable[]> {
  const names = await sql<{
    name: string;
  }>`select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\' order by name`.execute(db);
  const tables: DatabaseTable[] = [];
  for (const { name } of names.rows) {
    const info = await sql<{
      name: string;
      type: string;
      notnull: number;
      pk: number;
    }>`select name, type, "notnull", pk from pragma_table_info(${name}) order by cid`.execute(db);
    const list = await sql<{
      name: string;
      unique: number;
      origin: string;
      partial: number;
    }>`select name, "unique", origin, partial from pragma_index_list(${name})`.execute(db);
    const indexes: DatabaseIndex[] = [];
    for (const i of list.rows) {
      if (i.origin === 'pk' || i.partial === 1) continue;
      const cols = await sql<{ name: string | null }>`select name from pragma_index_info(${i.name}) order by seqno`.execute(db);
      if (cols.rows.some((c) => c.name === null)) continue; // an expression index
      indexes.push({ name: i.name, columns: cols.rows.map((c) => c.name!), unique: i.unique === 1 });
    }
    tables.push({
      name,
      columns: info.rows.map((c) => ({ name: c.name, sqlType: c.type, nullable: c.notnull === 0 })),
      primaryKey: info.rows
        .filter((c) => c.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((c) => c.name),
      indexes,
    });
  }
  return tables;
}

async function readPostgres(db: AnyDb): Promise<DatabaseTable[]> {
  const names = await sql<{ name: string }>`select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`.execute(db);
  const columns = await sql<{ tbl: string; name: string; type: string; nullable: string }>`select table_name as tbl, column_name as name,
    data_type as type, is_nullable as nullable from information_schema.columns
    where table_schema = current_schema() order by table_name, ordinal_position`.execute(db);
  const keys = await sql<{ tbl: string; name: string }>`select tc.table_name as tbl, kcu.column_name as name
    from information_schema.table_constraints tc join information_schema.key_column_usage kcu
      on kcu.constraint_schema = tc.constraint_schema and kcu.constraint_name = tc.constraint_name
    where tc.constraint_type = 'PRIMARY KEY' and tc.table_schema = current_schema() order by kcu.ordinal_position`.execute(db);
  const indexes = await sql<{ tbl: string; name: string; uniq: boolean; columns: string[] }>`select t.relname as tbl, i.relname as name,
      x.indisunique as uniq,
      array(select a.attname::text from unnest(x.indkey) with ordinality k(attnum, n)
            join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum order by k.n) as columns
    from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
      join pg_namespace s on s.oid = t.relnamespace
    where s.nspname = current_schema() and not x.indisprimary and x.indpred is null and x.indexprs is null
    order by i.relname`.execute(db);
  return names.rows.map(({ name }) => ({
    name,
    columns: columns.rows.filter((c) => c.tbl === name).map((c) => ({ name: c.name, sqlType: c.type, nullable: c.nullable === 'YES' })),
    primaryKey: keys.rows.filter((k) => k.tbl === name).map((k) => k.name),
    indexes: indexes.rows.filter((i) => i.tbl === name).map((i) => ({ name: i.name, columns: i.columns, unique: i.uniq })),
  }));
}
