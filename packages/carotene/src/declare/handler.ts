import type { SelectQueryBuilder, UpdateQueryBuilder, UpdateResult } from 'kysely';
import type { z } from 'zod';
import type { CaroteneError } from '../errors.ts';
import type { Client, Contract } from './contract.ts';
import type { EventDef, PayloadOf, PublishOptions } from './event.ts';
import type { HttpClient, HttpIntegration } from './http-integration.ts';
import type { NothingOffered, Offered, UndeclaredCalls, UndeclaredHttp, UndeclaredTables, WritesRefused } from './missing-permission.ts';
import type { SagaInputOf, SagaOutcome, SagaRef, SagaResultsOf, SagaStartOptions } from './saga-ref.ts';
import type { KeyOf, RowOf, Table } from './table.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What one handler may touch, and how it is exposed. */
export interface Permissions {
  /** Tables the handler may read. */
  readonly reads?: readonly Table[];
  /** Tables the handler may read and write. */
  readonly updates?: readonly Table[];
  /** Contracts of the services, and HTTP integrations (`http(...)`), the handler may call. */
  readonly calls?: readonly (Contract | HttpIntegration)[];
  /** Events the handler may publish with `ctx.publish` (among the service's `publishes`). */
  readonly publishes?: readonly EventDef[];
  /** Sagas the handler may start with `ctx.saga` / `ctx.startSaga` (among the service's `sagas`). */
  readonly sagas?: readonly SagaRef[];
  /** Public route through the gateway, e.g. `'POST /api/orders/:id/checkout'`. */
  readonly route?: `${HttpMethod} /${string}`;
  /** Whether the gateway requires a verified token (default `'none'`). */
  readonly auth?: 'required' | 'optional' | 'none';
  /** Roles a token must carry (implies `auth: 'required'`). */
  readonly roles?: readonly string[];
  /** HTTP status of a successful answer through the gateway (default 200). */
  readonly status?: 200 | 201 | 202 | 204;
}

/** Verified identity of the end user, as the gateway passes it on. */
export interface AuthClaims {
  readonly sub: string;
  readonly roles: readonly string[];
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface Log {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

type Db<T extends Table> = { [N in T['name']]: RowOf<T> };

/** Read access to one table. */
export interface ReadHandle<T extends Table> {
  get(key: KeyOf<T>): Promise<RowOf<T> | undefined>;
  /** Rows whose columns equal `where`, in key order unless `orderBy` says otherwise. */
  find(where?: Partial<RowOf<T>>, options?: { limit?: number; orderBy?: keyof RowOf<T> & string; direction?: 'asc' | 'desc' }): Promise<RowOf<T>[]>;
  /** A typed Kysely query on this table alone. */
  query(): SelectQueryBuilder<Db<T>, T['name'], RowOf<T>>;
}

/** Read and write access to one table. */
export interface WriteHandle<T extends Table> extends ReadHandle<T> {
  /** Inserts a row validated against the table's schema; returns it as stored. */
  insert(row: z.input<T['schema']>): Promise<RowOf<T>>;
  /** Applies a validated partial update; returns the new row, or undefined if none had the key. */
  update(key: KeyOf<T>, patch: Partial<RowOf<T>>): Promise<RowOf<T> | undefined>;
  delete(key: KeyOf<T>): Promise<boolean>;
  /** A typed Kysely update on this table, for conditional writes (`where stock >= qty`). */
  modify(): UpdateQueryBuilder<Db<T>, T['name'], T['name'], UpdateResult>;
}

type Elem<L> = L extends readonly (infer X)[] ? X : never;
type ListOf<P, K extends string> = P extends { readonly [_ in K]?: infer L } ? Elem<L> : never;
type Updated<P> = ListOf<P, 'updates'>;
type ReadOnly<P> = Exclude<ListOf<P, 'reads'>, Updated<P>>;

/**
 * `ctx.store`: a handle per declared table, writable only where declared in `updates` (the
 * write methods of a read-only one say so, naming `Who` declared it: handler, saga, ...).
 */
export type StoreOf<P, Who extends string = 'handler'> = { readonly [T in Updated<P> as T['name']]: WriteHandle<T> } & {
  readonly [T in ReadOnly<P> as T['name']]: ReadHandle<T> & WritesRefused<T['name'], Who>;
};

/** `ctx.call`: a typed client per contract declared in `calls`. */
export type CallsOf<P> = { readonly [C in Extract<ListOf<P, 'calls'>, Contract> as C['name']]: Client<C> };

/** `ctx.http`: a client per HTTP integration declared in `calls`. */
export type HttpOf<P> = { readonly [H in Extract<ListOf<P, 'calls'>, HttpIntegration> as H['name']]: HttpClient };

/** A handler's `ctx.store`: its tables, and the service's others as the permission to add. */
export type HandlerStore<P, U extends Offered, Who extends string> = StoreOf<P, Who> &
  UndeclaredTables<Exclude<U['tables'], ListOf<P, 'reads' | 'updates'>['name']>, Who>;

/** A handler's `ctx.call`: its clients, and the service's other integrations as the permission to add. */
export type HandlerCalls<P, U extends Offered, Who extends string> = CallsOf<P> & UndeclaredCalls<Exclude<U['calls'], ListOf<P, 'calls'>['name']>, Who>;

/** A handler's `ctx.http`: its HTTP integrations, and the service's others as the permission to add. */
export type HandlerHttp<P, U extends Offered, Who extends string> = HttpOf<P> & UndeclaredHttp<Exclude<U['http'], ListOf<P, 'calls'>['name']>, Who>;

/**
 * `ctx.publish`: only the events declared in `publishes`. The event is written to the
 * service's outbox in the current `ctx.transaction`, so it is delivered exactly when the
 * transaction commits.
 */
export type PublishOf<P> = <E extends ListOf<P, 'publishes'>>(event: E, payload: PayloadOf<E>, options?: PublishOptions) => Promise<void>;

/** `ctx.saga`: starts a saga declared in `sagas` and waits for its outcome (its steps' results typed). */
export type SagaOf<P> = <S extends ListOf<P, 'sagas'>>(saga: S, input: SagaInputOf<S>, options?: SagaStartOptions) => Promise<SagaOutcome<SagaResultsOf<S>>>;

/** `ctx.startSaga`: starts a saga declared in `sagas` and returns its instance id at once. */
export type StartSagaOf<P> = <S extends ListOf<P, 'sagas'>>(saga: S, input: SagaInputOf<S>, options?: SagaStartOptions) => Promise<string>;

type AuthOf<P> = P extends { readonly auth: 'required' } ? AuthClaims : P extends { readonly roles: readonly string[] } ? AuthClaims : AuthClaims | undefined;

/**
 * What a handler receives besides its input. `U` is what its service offers (filled in by
 * `implement`), so that an undeclared table or integration names the permission to add.
 */
export interface HandlerContext<P extends Permissions, E extends string, Cfg, U extends Offered = NothingOffered, Who extends string = 'handler'> {
  readonly store: HandlerStore<P, U, Who>;
  readonly call: HandlerCalls<P, U, Who>;
  /** A client per HTTP integration (`http(...)`) in the handler's `calls`: `ctx.http.cardProvider.post('/charges', { json })`. */
  readonly http: HandlerHttp<P, U, Who>;
  readonly auth: AuthOf<P>;
  readonly config: Cfg;
  readonly service: string;
  readonly requestId: string;
  /** Service that made this call (`gateway` for public requests). */
  readonly caller: string;
  /** Epoch milliseconds after which the caller has given up. */
  readonly deadline: number;
  /** Aborted when the deadline passes. */
  readonly signal: AbortSignal;
  readonly log: Log;
  /** Builds a declared domain error to `throw`. */
  reject(code: E, message: string, details?: unknown): CaroteneError<E>;
  /** Runs `fn` in one database transaction: all its writes commit together or not at all. */
  transaction<T>(fn: (store: HandlerStore<P, U, Who>) => Promise<T>): Promise<T>;
  /**
   * Publishes an event declared in the handler's `publishes`, inside `ctx.transaction` (or in
   * a subscriber, which always runs in one): it commits with the handler's writes, or not at all.
   */
  readonly publish: PublishOf<P>;
  /**
   * Starts a saga of the handler's `sagas` and resolves with its outcome; when the call's
   * deadline comes first, rejects with DEADLINE_EXCEEDED while the saga runs on.
   */
  readonly saga: SagaOf<P>;
  /** Starts a saga of the handler's `sagas` in the background and returns its id. */
  readonly startSaga: StartSagaOf<P>;
}

/** A handler as declared. Build it with {@link handler}. */
export interface HandlerDef<
  I = unknown,
  O = unknown,
  E extends string = string,
  P extends Permissions = Permissions,
  Cfg = unknown,
  U extends Offered = NothingOffered,
> {
  readonly kind: 'handler';
  readonly permissions: P;
  readonly run: (input: I, ctx: HandlerContext<P, E, Cfg, U>) => Promise<O> | O;
  /** Type-level only: lets `implement` infer input, errors, config and what it offers into the handler. */
  readonly types?: { readonly errors: E; readonly config: Cfg; readonly output: O; readonly offered: U };
}

/** The slot `implement` offers each function: the permissions must fit the service's own. */
export interface HandlerSlot<I, O, E extends string, A, Cfg, U extends Offered = NothingOffered> {
  readonly kind: 'handler';
  readonly permissions: A;
  readonly run: (input: I, ctx: never) => Promise<O> | O;
  readonly types?: { readonly errors: E; readonly config: Cfg; readonly output: O; readonly offered: U };
}

/**
 * Declares a handler with its permissions. Its input, output, errors and config types come
 * from the contract function it implements.
 *
 * ```ts
 * reserve: handler({ updates: [Stock] }, async ({ itemId, qty }, ctx) => { ... })
 * ```
 */
export function handler<const P extends Permissions, I, O, E extends string, Cfg, U extends Offered = NothingOffered>(
  permissions: P,
  run: (input: I, ctx: HandlerContext<P, E, Cfg, U>) => Promise<NoInfer<O>> | NoInfer<O>,
): HandlerDef<I, O, E, P, Cfg, U> {
  return { kind: 'handler', permissions, run };
}
