/**
 * Type-level only: what a service offers one of its handlers, the names of its tables and of
 * its integrations. `implement(...).handlers({...})` passes it into each handler, so that a
 * table or integration the handler did not declare is still a key of `ctx.store` /
 * `ctx.call`, whose type is the sentence that says which permission to add.
 */
export interface Offered<Tables extends string = string, Calls extends string = string, Http extends string = string> {
  readonly tables: Tables;
  readonly calls: Calls;
  /** The service's HTTP integrations (`ctx.http`). */
  readonly http: Http;
}

/** Nothing offered: a handler declared outside `implement(...)` sees only its own permissions. */
export type NothingOffered = Offered<never, never, never>;

// The mapped types below are written out, not named, so that a diagnostic prints the
// sentence itself (`{ readonly "add 'orders' to this handler's reads or updates": never }`)
// instead of an alias name.

/** `ctx.store.<name>` for each table in `Names` that the handler (or subscriber, saga) did not declare. */
export type UndeclaredTables<Names extends string, Who extends string> = {
  readonly [N in Names]: { readonly [_ in `add '${N}' to this ${Who}'s reads or updates`]: never };
};

/** `ctx.call.<name>` for each integration in `Names` that the handler did not declare. */
export type UndeclaredCalls<Names extends string, Who extends string> = {
  readonly [N in Names]: { readonly [_ in `add '${N}' to this ${Who}'s calls`]: never };
};

/** `ctx.http.<name>` for each HTTP integration in `Names` that the handler did not declare. */
export type UndeclaredHttp<Names extends string, Who extends string> = {
  readonly [N in Names]: { readonly [_ in `add '${N}' to this ${Who}'s calls`]: never };
};

/** The write methods of a table declared only in `reads`: each one says how to be allowed to write. */
export type WritesRefused<Name extends string, Who extends string> = {
  readonly [M in 'insert' | 'update' | 'delete' | 'modify']: { readonly [_ in `add '${Name}' to this ${Who}'s updates to write it`]: never };
};
