import type { StoreEngine } from './driver.ts';
import type { SchemaChange } from './schema-changes.ts';
import type { ColumnDefault, ColumnSchema, ColumnType, IndexSchema } from './schema-snapshot.ts';

/**
 * Column types per engine. On PostgreSQL integers are BIGINT, which the driver reads back as
 * numbers; on SQLite booleans are INTEGER 1/0, which the table handles turn back into
 * booleans (see `SqliteBooleans`).
 */
export const SQL_TYPES: Readonly<Record<StoreEngine, Readonly<Record<ColumnType, string>>>> = {
  sqlite: { text: 'TEXT', integer: 'INTEGER', real: 'REAL', boolean: 'INTEGER' },
  postgres: { text: 'TEXT', integer: 'BIGINT', real: 'DOUBLE PRECISION', boolean: 'BOOLEAN' },
};

/** `"name"`: every identifier is quoted, so camelCase columns keep their case on PostgreSQL. */
export const quoteName = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * The statements of `changes` on one engine, in order. Both engines get the same steps
 * (SQLite 3.35+ drops columns in place), so a migration means the same on either.
 *
 * ```ts
 * schemaSql([{ kind: 'dropColumn', table: 'orders', column: 'note' }], 'sqlite');
 * // ['ALTER TABLE "orders" DROP COLUMN "note"']
 * ```
 */
export function schemaSql(changes: readonly SchemaChange[], engine: StoreEngine): string[] {
  const out: string[] = [];
  for (const c of changes) {
    switch (c.kind) {
      case 'createTable': {
        const columns = c.table.columns.map((col) => `  ${columnSql(col, engine, col.name === c.table.key)}`);
        out.push(`CREATE TABLE ${quoteName(c.table.name)} (\n${columns.join(',\n')}\n)`);
        for (const i of c.table.indexes) out.push(indexSql(c.table.name, i));
        break;
      }
      case 'dropTable':
        out.push(`DROP TABLE ${quoteName(c.table)}`);
        break;
      case 'addColumn':
        out.push(`ALTER TABLE ${quoteName(c.table)} ADD COLUMN ${columnSql(c.column, engine, false)}`);
        break;
      case 'dropColumn':
        out.push(`ALTER TABLE ${quoteName(c.table)} DROP COLUMN ${quoteName(c.column)}`);
        break;
      case 'createIndex':
        out.push(indexSql(c.table, c.index));
        break;
      case 'dropIndex':
        out.push(`DROP INDEX ${quoteName(c.index)}`);
        break;
    }
  }
  return out;
}

function columnSql(c: ColumnSchema, engine: StoreEngine, key: boolean): string {
  const parts = [quoteName(c.name), SQL_TYPES[engine][c.type]];
  if (!c.nullable) parts.push('NOT NULL');
  if (c.default !== undefined) parts.push(`DEFAULT ${literal(c.default, engine)}`);
  if (key) parts.push('PRIMARY KEY');
  return parts.join(' ');
}

function indexSql(table: string, i: IndexSchema): string {
  return `CREATE ${i.unique ? 'UNIQUE ' : ''}INDEX ${quoteName(i.name)} ON ${quoteName(table)} (${i.columns.map(quoteName).join(', ')})`;
}

function literal(value: ColumnDefault, engine: StoreEngine): string {
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
  if (typeof value === 'boolean') return engine === 'sqlite' ? (value ? '1' : '0') : value ? 'TRUE' : 'FALSE';
  return String(value);
}
