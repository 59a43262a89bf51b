import type { z } from 'zod';

/** An index of a table, as {@link table} settles it: a name, its columns in order, unique or not. */
export interface TableIndex {
  readonly name: string;
  readonly columns: readonly string[];
  readonly unique: boolean;
}

/** A table owned by one service. Build it with {@link table}. */
export interface Table<N extends string = string, S extends z.ZodObject = z.ZodObject, K extends string = string> {
  readonly kind: 'table';
  /** SQL table name, and the name of its handle on `ctx.store`. */
  readonly name: N;
  readonly schema: S;
  /** Primary-key column. */
  readonly key: K;
  /** Secondary indexes; `carrot migrations make` creates them and the service checks them at start. */
  readonly indexes: readonly TableIndex[];
}

export type RowOf<T extends Table> = z.output<T['schema']>;
export type KeyOf<T extends Table> = RowOf<T>[T['key']];

/** An index as written in {@link table}: `name` defaults to `<table>_<columns>` (`_unique` for a unique one). */
export interface IndexOptions<C extends string = string> {
  readonly columns: readonly [C, ...C[]];
  readonly unique?: boolean;
  readonly name?: string;
}

const SQL_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

/**
 * Declares a table: its rows as a zod object, its primary key and its indexes. The service
 * that lists it in `stores` owns it; `carrot migrations make <service>` writes the migration
 * that creates or changes it.
 *
 * ```ts
 * export const Product = table('products', { key: 'id',
 *   schema: z.object({ id: z.string(), sku: z.string(), price: z.number().int() }),
 *   indexes: [{ columns: ['sku'], unique: true }] });
 * ```
 */
export function table<const N extends string, S extends z.ZodObject, const K extends keyof z.output<S> & string>(
  name: N,
  def: { schema: S; key: K; indexes?: readonly IndexOptions<keyof z.output<S> & string>[] },
): Table<N, S, K> {
  if (!SQL_NAME.test(name)) throw new TypeError(`table name '${name}' must be a SQL identifier (letters, digits, _)`);
  if (!(def.key in def.schema.shape)) throw new TypeError(`table '${name}': key '${def.key}' is not a column of its schema`);
  const indexes = (def.indexes ?? []).map((i) => settleIndex(name, def.schema, i));
  const names = new Set<string>();
  for (const i of indexes) {
    if (names.has(i.name)) throw new TypeError(`table '${name}': two indexes are named '${i.name}'; give one a name of its own`);
    names.add(i.name);
  }
  return { kind: 'table', name, schema: def.schema, key: def.key, indexes };
}

function settleIndex(table: string, schema: z.ZodObject, i: IndexOptions): TableIndex {
  const where = `table '${table}'`;
  if (!Array.isArray(i.columns) || i.columns.length === 0) throw new TypeError(`${where}: an index needs at least one column`);
  for (const c of i.columns) if (!(c in schema.shape)) throw new TypeError(`${where}: index column '${c}' is not a column of its schema`);
  if (new Set(i.columns).size !== i.columns.length) throw new TypeError(`${where}: an index lists a column twice (${i.columns.join(', ')})`);
  const unique = i.unique === true;
  const name = i.name ?? `${table}_${i.columns.join('_')}${unique ? '_unique' : ''}`;
  if (!SQL_NAME.test(name)) {
    throw new TypeError(`${where}: index name '${name}' must be a SQL identifier of at most 63 characters; give the index a shorter name`);
  }
  return { name, columns: [...i.columns], unique };
}
