import type { z } from 'zod';

/** A table owned by one service. Build it with {@link table}. */
export interface Table<
  N extends string = string,
  S extends z.ZodObject = z.ZodObject,
  K extends string = string,
> {
  readonly kind: 'table';
  /** SQL table name, and the name of its handle on `ctx.store`. */
  readonly name: N;
  readonly schema: S;
  /** Primary-key column. */
  readonly key: K;
}

export type RowOf<T extends Table> = z.output<T['schema']>;
export type KeyOf<T extends Table> = RowOf<T>[T['key']];

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

/**
 * Declares a table: its rows as a zod object and its primary key. The service that lists
 * it in `stores` owns it; its migrations create it.
 *
 * ```ts
 * export const Product = table('products', { key: 'id',
 *   schema: z.object({ id: z.string(), name: z.string(), price: z.number().int() }) });
 * ```
 */
export function table<const N extends string, S extends z.ZodObject, const K extends keyof z.output<S> & string>(
  name: N,
  def: { schema: S; key: K },
): Table<N, S, K> {
  if (!TABLE_NAME.test(name)) throw new TypeError(`table name '${name}' must be a SQL identifier (letters, digits, _)`);
  if (!(def.key in def.schema.shape)) throw new TypeError(`table '${name}': key '${def.key}' is not a column of its schema`);
  return { kind: 'table', name, schema: def.schema, key: def.key };
}
