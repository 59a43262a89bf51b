import type { AnyDb } from 'carotene/model';
import type { StoreOf } from 'carotene/model';
import type { Table } from 'carotene/model';
import { permissionDenied, platformError } from 'carotene/model';
import type { StoreEngine } from './driver.ts';
import { TableHandle } from './table-handle.ts';

/** The tables one handler declared. */
export interface TableAccess {
  readonly reads?: readonly Table[];
  readonly updates?: readonly Table[];
}

// what awaiting, logging, JSON and test libraries probe on any object; answering them
// normally keeps `await ctx.store` or `console.log(ctx.store)` from throwing
const HARMLESS = new Set([
  'then',
  'toJSON',
  'constructor',
  'toString',
  'toLocaleString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  '__proto__',
  'inspect',
  'asymmetricMatch',
  'nodeType',
  '$$typeof',
]);

/**
 * Builds `ctx.store` for one handler: a write handle per table in `updates`, a read handle
 * per table in `reads`, keyed by table name. Reaching any other table throws
 * PERMISSION_DENIED naming the handler, the table and the fix, so an undeclared access
 * fails at run time as it fails at `tsc`.
 *
 * ```ts
 * const store = createStoreAccess(trx, service.stores, { reads: [Product] }, 'catalog.listProducts', 'sqlite');
 * await store.products.find({ active: true });
 * ```
 */
export function createStoreAccess<P extends TableAccess>(db: AnyDb, tables: readonly Table[], permissions: P, owner: string, engine: StoreEngine): StoreOf<P> {
  const handles: Record<string, TableHandle<Table>> = {};
  const add = (t: Table, mode: 'read' | 'write') => {
    if (!tables.includes(t)) {
      throw platformError('INVALID_CONFIG', `${owner} declares table '${t.name}', which is not among its service's stores`);
    }
    handles[t.name] ??= new TableHandle(db, t, mode, owner, engine);
  };
  for (const t of permissions.updates ?? []) add(t, 'write');
  for (const t of permissions.reads ?? []) add(t, 'read');

  const owned = new Set(tables.map((t) => t.name));
  return new Proxy(Object.freeze(handles), {
    get(target, prop, receiver) {
      if (typeof prop === 'symbol' || Object.hasOwn(target, prop)) return Reflect.get(target, prop, receiver);
      if (HARMLESS.has(prop) && !owned.has(prop)) return Reflect.get(target, prop, receiver);
      throw undeclared(prop, owner, owned);
    },
  }) as unknown as StoreOf<P>;
}

/** `ctx.store` with every table of the service writable: for `onStart` and tests. */
export function fullAccess<const S extends readonly Table[]>(db: AnyDb, tables: S, owner: string, engine: StoreEngine): StoreOf<{ updates: S }> {
  return createStoreAccess(db, tables, { updates: tables }, owner, engine);
}

function undeclared(table: string, owner: string, owned: ReadonlySet<string>) {
  if (owned.has(table)) {
    return permissionDenied(
      { owner, permission: 'reads', name: table },
      `${owner} did not declare table '${table}'; add it to the handler's reads (or updates, to write it)`,
    );
  }
  const list = owned.size > 0 ? [...owned].join(', ') : 'none';
  return permissionDenied(
    { owner, permission: 'stores', name: table },
    `${owner} has no table '${table}': the service's stores are ${list}; another service's data is reached only through its contract`,
  );
}
