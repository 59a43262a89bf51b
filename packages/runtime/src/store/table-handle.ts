import type { AnyDb } from 'carotene/model';
import type { SelectQueryBuilder, UpdateQueryBuilder } from 'kysely';
import type { z } from 'zod';
import type { ReadHandle, WriteHandle } from 'carotene/model';
import type { KeyOf, RowOf, Table } from 'carotene/model';
import { permissionDenied, platformError } from 'carotene/model';
import type { StoreEngine } from './driver.ts';
import { SqliteBooleans } from './sqlite-booleans.ts';
import { conflictError, isUniqueViolation } from './store-errors.ts';

export type HandleMode = 'read' | 'write';
type Row = Record<string, unknown>;

/** What a handle needs of its table, worked out once per table rather than per request. */
interface TableInfo {
  readonly columns: ReadonlySet<string>;
  readonly patch: z.ZodObject;
  readonly sqlite: SqliteBooleans;
}
const infos = new WeakMap<Table, TableInfo>();

function infoOf(table: Table): TableInfo {
  let info = infos.get(table);
  if (!info) {
    const shape = table.schema.shape as Record<string, z.ZodType>;
    const booleans = Object.keys(shape).filter((c) => isBoolean(shape[c]));
    info = { columns: new Set(Object.keys(shape)), patch: table.schema.partial(), sqlite: new SqliteBooleans(booleans) };
    infos.set(table, info);
  }
  return info;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional']);

function isBoolean(type: z.ZodType | undefined): boolean {
  let def = type?._zod.def as { type: string; innerType?: z.ZodType } | undefined;
  while (def && WRAPPERS.has(def.type)) def = def.innerType?._zod.def as typeof def;
  return def?.type === 'boolean';
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/**
 * One table as a handler sees it on `ctx.store`: rows validated by the table's schema on
 * the way in, booleans kept booleans on SQLite, unique violations turned into CONFLICT, and
 * in `'read'` mode every write refused with PERMISSION_DENIED. Works over the store's
 * Kysely instance or a transaction of it.
 *
 * ```ts
 * const products = new TableHandle(store.db, Product, 'write', 'catalog.addProduct', store.kind);
 * await products.insert({ id: 'p1', name: 'Lamp', price: 1200 });
 * ```
 */
export class TableHandle<T extends Table> implements WriteHandle<T> {
  readonly #db: AnyDb;
  readonly #table: T;
  readonly #mode: HandleMode;
  readonly #owner: string;
  readonly #info: TableInfo;

  constructor(db: AnyDb, table: T, mode: HandleMode, owner: string, engine: StoreEngine) {
    this.#info = infoOf(table);
    this.#db = engine === 'sqlite' ? db.withPlugin(this.#info.sqlite) : db;
    this.#table = table;
    this.#mode = mode;
    this.#owner = owner;
  }

  async get(key: KeyOf<T>): Promise<RowOf<T> | undefined> {
    const { name, key: column } = this.#table;
    return this.#db.selectFrom(name).selectAll().where(column, '=', key).executeTakeFirst() as Promise<RowOf<T> | undefined>;
  }

  async find(
    where: Partial<RowOf<T>> = {},
    options: { limit?: number; orderBy?: keyof RowOf<T> & string; direction?: 'asc' | 'desc' } = {},
  ): Promise<RowOf<T>[]> {
    const { name, key } = this.#table;
    const direction = options.direction ?? 'asc';
    const orderBy = options.orderBy ?? key;
    let q = this.#db.selectFrom(name).selectAll();
    for (const [column, value] of Object.entries(where as Row)) {
      if (value === undefined) continue;
      q = q.where(this.#column(column), value === null ? 'is' : '=', value);
    }
    q = q.orderBy(this.#column(orderBy), direction);
    if (orderBy !== key) q = q.orderBy(key, direction); // ties in key order, so pages are stable
    if (options.limit !== undefined) {
      if (!Number.isInteger(options.limit) || options.limit < 0) throw new TypeError(`find on '${name}': limit must be a whole number >= 0`);
      q = q.limit(options.limit);
    }
    return q.execute() as Promise<RowOf<T>[]>;
  }

  query(): ReturnType<ReadHandle<T>['query']> {
    const q: SelectQueryBuilder<Row, string, Row> = this.#db.selectFrom(this.#table.name).selectAll();
    return q as unknown as ReturnType<ReadHandle<T>['query']>;
  }

  async insert(row: z.input<T['schema']>): Promise<RowOf<T>> {
    this.#writable();
    const parsed = this.#table.schema.safeParse(row);
    if (!parsed.success) throw this.#invalid('insert an invalid row', parsed.error);
    const values = withoutUndefined(parsed.data as Row);
    return this.#write(() => this.#db.insertInto(this.#table.name).values(values).returningAll().executeTakeFirstOrThrow()) as Promise<RowOf<T>>;
  }

  async update(key: KeyOf<T>, patch: Partial<RowOf<T>>): Promise<RowOf<T> | undefined> {
    this.#writable();
    const { name, key: column } = this.#table;
    const given = patch as Row;
    if (column in given && given[column] !== undefined && given[column] !== key) {
      throw platformError('INVALID_ROW', `${this.#owner} tried to change the key '${column}' of a row in '${name}'; keys never change`, {
        details: { table: name },
      });
    }
    const parsed = this.#info.patch.safeParse(given);
    if (!parsed.success) throw this.#invalid('update a row with an invalid patch', parsed.error);
    // only what the caller gave: parsing fills schema defaults, which must not overwrite stored values
    const values: Row = {};
    for (const [c, v] of Object.entries(parsed.data as Row)) if (c !== column && given[c] !== undefined) values[c] = v;
    if (Object.keys(values).length === 0) return this.get(key);
    return this.#write(() => this.#db.updateTable(name).set(values).where(column, '=', key).returningAll().executeTakeFirst()) as Promise<RowOf<T> | undefined>;
  }

  async delete(key: KeyOf<T>): Promise<boolean> {
    this.#writable();
    const { name, key: column } = this.#table;
    const result = await this.#db.deleteFrom(name).where(column, '=', key).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  modify(): ReturnType<WriteHandle<T>['modify']> {
    this.#writable();
    const q: UpdateQueryBuilder<Row, string, string, unknown> = this.#db.updateTable(this.#table.name);
    return q as unknown as ReturnType<WriteHandle<T>['modify']>;
  }

  /** What logging or `JSON.stringify` shows: never the connection. */
  toJSON(): { table: string; mode: HandleMode; owner: string } {
    return { table: this.#table.name, mode: this.#mode, owner: this.#owner };
  }

  #writable(): void {
    if (this.#mode === 'write') return;
    const name = this.#table.name;
    throw permissionDenied({ owner: this.#owner, permission: 'updates', name }, `${this.#owner} may only read '${name}'; declare it in updates to write it`);
  }

  #column(column: string): string {
    if (!this.#info.columns.has(column)) throw new TypeError(`'${column}' is not a column of table '${this.#table.name}'`);
    return column;
  }

  #invalid(what: string, error: z.ZodError) {
    const name = this.#table.name;
    return platformError('INVALID_ROW', `${this.#owner} tried to ${what} in '${name}': ${describeIssues(error)}`, {
      details: { table: name, issues: error.issues },
    });
  }

  async #write<R>(run: () => Promise<R>): Promise<R> {
    try {
      return await run();
    } catch (err) {
      throw isUniqueViolation(err) ? conflictError(err, this.#table.name, this.#owner) : err;
    }
  }
}

function withoutUndefined(row: Row): Row {
  return Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined));
}
