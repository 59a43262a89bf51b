import type { AnyDb } from './any-db.ts';
import type { z } from 'zod';
import type { Contract, ErrorsOf, OutputOf, ParsedInputOf } from './contract.ts';
import type { DataOf, EventDef } from './event.ts';
import type { HandlerDef, HandlerSlot, Log, Permissions, StoreOf } from './handler.ts';
import { type HttpIntegration, isHttpIntegration } from './http-integration.ts';
import type { Offered } from './missing-permission.ts';
import { declaredAt } from './declared-at.ts';
import { parseRoute, type Route } from './route.ts';
import type { SagaDef, SagaPermissions } from './saga.ts';
import type { SagaRef } from './saga-ref.ts';
import type { SubscriberDef, SubscriberSlot } from './subscriber.ts';
import type { Table } from './table.ts';

/**
 * A versioned migration. Names sort in the order they run (`0001_products`, `0002_seed`).
 * Either code (`up`, hand-written, e.g. for data changes) or SQL per engine, as
 * `carrot migrations make` generates it from the declared tables.
 */
export type Migration = CodeMigration | SqlMigration;

/** A hand-written step. `db` is untyped on purpose: a migration shapes tables that the current types may not describe. */
export interface CodeMigration {
  up(db: AnyDb): Promise<void>;
}

/** Statements run in order, in one transaction, on the engine the store is on. */
export interface SqlMigration {
  readonly sqlite: readonly string[];
  readonly postgres: readonly string[];
}

/** What `onStart` receives: full access to the service's own tables. */
export interface StartContext<S extends readonly Table[], Cfg> {
  readonly store: StoreOf<{ updates: S }>;
  readonly config: Cfg;
  readonly log: Log;
}

type Allowed<
  S extends readonly Table[],
  G extends readonly Integration[],
  Pub extends readonly EventDef[] = readonly EventDef[],
  Sg extends readonly SagaRef[] = readonly SagaRef[],
> = Permissions & {
  readonly reads?: readonly S[number][];
  readonly updates?: readonly S[number][];
  readonly calls?: readonly G[number][];
  readonly publishes?: readonly Pub[number][];
  readonly sagas?: readonly Sg[number][];
};

/** A saga a service may list: its permissions must fit the service's own. */
export interface SagaSlot<S extends readonly Table[], G extends readonly Integration[], Pub extends readonly EventDef[]> extends SagaRef {
  readonly permissions: SagaPermissions & {
    readonly reads?: readonly S[number][];
    readonly updates?: readonly S[number][];
    readonly calls?: readonly G[number][];
    readonly publishes?: readonly Pub[number][];
  };
}

export type HandlerSlots<
  C extends Contract,
  S extends readonly Table[],
  G extends readonly Integration[],
  Cfg,
  Pub extends readonly EventDef[] = readonly EventDef[],
  Sg extends readonly SagaRef[] = readonly SagaRef[],
> = {
  readonly [K in keyof C['functions']]: HandlerSlot<
    ParsedInputOf<C['functions'][K]>,
    OutputOf<C['functions'][K]>,
    ErrorsOf<C['functions'][K]>,
    Allowed<S, G, Pub, Sg>,
    Cfg,
    OfferedBy<S, G>
  >;
};

/** The names a service's handlers may declare, for the messages of what they did not. */
type OfferedBy<S extends readonly Table[], G extends readonly Integration[]> = Offered<
  S[number]['name'],
  Extract<G[number], Contract>['name'],
  Extract<G[number], HttpIntegration>['name']
>;

/** What a service may list in its integrations: contracts of other services, outside HTTP APIs. */
export type Integration = Contract | HttpIntegration;

// Keyed by name without an `as` clause, so each subscriber's callback is typed from its slot.
/** One subscriber per subscribed event, keyed by the event's name. */
export type SubscriberSlots<
  Sub extends readonly EventDef[],
  S extends readonly Table[],
  G extends readonly Integration[],
  Cfg,
  Pub extends readonly EventDef[],
  Sg extends readonly SagaRef[] = readonly SagaRef[],
> = {
  readonly [N in Sub[number]['name']]: SubscriberSlot<DataOf<Extract<Sub[number], { name: N }>>, Allowed<S, G, Pub, Sg>, Cfg, OfferedBy<S, G>>;
};

/** A public route bound to the function that serves it. */
export interface PublicRoute extends Route {
  readonly service: string;
  readonly function: string;
  readonly auth: 'required' | 'optional' | 'none';
  readonly roles: readonly string[];
  readonly status: number;
}

/** How a function is exposed through the gateway: what a handler (or an `external` service) declares. */
export type RouteOptions = Pick<Permissions, 'route' | 'auth' | 'roles' | 'status'>;

/** The public route of `service.fn` as `options` declare it (roles imply `auth: 'required'`). */
export function publicRoute(options: RouteOptions & { route: string }, service: string, fn: string, where: string): PublicRoute {
  const route = parseRoute(options.route, where);
  const roles = options.roles ?? [];
  if (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string' || r === '')) throw new TypeError(`${where}: roles must be a list of role names`);
  const auth = roles.length > 0 ? 'required' : (options.auth ?? 'none');
  if (auth !== 'required' && auth !== 'optional' && auth !== 'none')
    throw new TypeError(`${where}: auth must be 'required', 'optional' or 'none', got '${String(auth)}'`);
  const status = options.status ?? 200;
  if (![200, 201, 202, 204].includes(status)) throw new TypeError(`${where}: status must be 200, 201, 202 or 204, got ${String(status)}`);
  return { ...route, service, function: fn, auth, roles, status };
}

/** A service implementation, as `implement` returns it. */
export interface ServiceDef<
  C extends Contract = Contract,
  S extends readonly Table[] = readonly Table[],
  G extends readonly Integration[] = readonly Integration[],
  Cfg = unknown,
> {
  readonly kind: 'service';
  readonly name: C['name'];
  readonly contract: C;
  readonly stores: S;
  /** Contracts of the services this one calls. */
  readonly integrations: readonly Extract<G[number], Contract>[];
  /** Outside HTTP APIs this one calls (`http(...)` in its integrations). */
  readonly http: readonly Extract<G[number], HttpIntegration>[];
  readonly handlers: Readonly<Record<string, AnyHandler>>;
  readonly migrations: Readonly<Record<string, Migration>>;
  readonly config: z.ZodType<Cfg> | undefined;
  readonly onStart: ((ctx: StartContext<readonly Table[], unknown>) => Promise<void>) | undefined;
  readonly routes: readonly PublicRoute[];
  /** Where `implement` was called (`file:line`), for messages that point at the source. */
  readonly source?: string | undefined;
  /** Events this service publishes (it owns them). */
  readonly publishes: readonly EventDef[];
  /** Events of other services this service subscribes to. */
  readonly subscribes: readonly EventDef[];
  /** The subscriber of each subscribed event, keyed by event type (`orders.OrderPlaced`). */
  readonly subscribers: Readonly<Record<string, AnySubscriber>>;
  /** Sagas this service orchestrates; their instances live in its database. */
  readonly sagas: readonly SagaDef[];
}

export interface ServiceOptions<
  S extends readonly Table[],
  G extends readonly Integration[],
  Cfg,
  Pub extends readonly EventDef[] = readonly EventDef[],
  Sub extends readonly EventDef[] = readonly EventDef[],
  Sg extends readonly SagaRef[] = readonly SagaRef[],
> {
  /** Tables this service owns; no other service can reach them. */
  readonly stores?: S;
  /** Contracts of the services this one may call, and outside HTTP APIs declared with `http(...)`. */
  readonly integrations?: G;
  /** Events this service publishes; each must be declared with this service's name. */
  readonly publishes?: Pub;
  /** Events of other services this one handles; give each a subscriber with `.subscriptions({...})`. */
  readonly subscribes?: Sub;
  /** Sagas this service orchestrates (declared with `saga`); handlers start them with `ctx.saga`. */
  readonly sagas?: Sg;
  /** Schema of this service's configuration (from the app config). */
  readonly config?: z.ZodType<Cfg>;
  readonly migrations?: Readonly<Record<string, Migration>>;
  /** Runs once after migrations, before the service reports ready (e.g. seeding). */
  readonly onStart?: (ctx: StartContext<S, Cfg>) => Promise<void>;
}

/** The second half of {@link implement}: one handler per contract function. */
export interface ServiceBuilder<
  C extends Contract,
  S extends readonly Table[],
  G extends readonly Integration[],
  Cfg,
  Pub extends readonly EventDef[] = readonly EventDef[],
  Sub extends readonly EventDef[] = readonly EventDef[],
  Sg extends readonly SagaRef[] = readonly SagaRef[],
> {
  handlers(handlers: HandlerSlots<C, S, G, Cfg, Pub, Sg>): ServiceDef<C, S, G, Cfg>;
  /** One subscriber per event in `subscribes`, before the handlers. */
  subscriptions(subscribers: SubscriberSlots<Sub, S, G, Cfg, Pub, Sg>): {
    handlers(handlers: HandlerSlots<C, S, G, Cfg, Pub, Sg>): ServiceDef<C, S, G, Cfg>;
  };
}

/**
 * Implements a contract: the tables the service owns, the services it depends on, its
 * configuration, and then one handler per contract function, each with its own permissions.
 * (Two steps so that every type a handler sees is settled before its body is checked.)
 *
 * ```ts
 * export default implement(Catalog, { stores: [Product] }).handlers({
 *   getProduct: handler({ reads: [Product] }, ({ id }, ctx) => ctx.store.products.get(id)),
 * });
 * ```
 */
export function implement<
  C extends Contract,
  const S extends readonly Table[] = [],
  const G extends readonly Integration[] = [],
  Cfg = undefined,
  const Pub extends readonly EventDef[] = [],
  const Sub extends readonly EventDef[] = [],
  const Sg extends readonly SagaSlot<S, G, Pub>[] = [],
>(contract: C, options: ServiceOptions<S, G, Cfg, Pub, Sub, Sg> = {}): ServiceBuilder<C, S, G, Cfg, Pub, Sub, Sg> {
  const erased = options as unknown as ServiceOptions<readonly Table[], readonly Integration[], unknown>;
  const source = declaredAt(new Error().stack);
  const build = (handlers: unknown, subscribers: unknown) =>
    ({
      ...buildService(contract, erased, handlers as Record<string, AnyHandler>, subscribers as Record<string, AnySubscriber>),
      source,
    }) as unknown as ServiceDef<C, S, G, Cfg>;
  return {
    handlers: (handlers) => build(handlers, {}),
    subscriptions: (subscribers) => ({ handlers: (handlers) => build(handlers, subscribers) }),
  };
}

type AnyHandler = HandlerDef<unknown, unknown, string, Permissions, unknown>;
export type AnySubscriber = SubscriberDef<unknown, Permissions, unknown>;

function buildService<C extends Contract>(
  contract: C,
  options: ServiceOptions<readonly Table[], readonly Integration[], unknown>,
  handlers: Record<string, AnyHandler>,
  subscriberDefs: Record<string, AnySubscriber>,
): ServiceDef<C> {
  const where = `service '${contract.name}'`;
  const stores: readonly Table[] = options.stores ?? [];
  const integrations: readonly Integration[] = options.integrations ?? [];
  const http = checkIntegrations(integrations, where);
  const routes: PublicRoute[] = [];
  const publishes: readonly EventDef[] = options.publishes ?? [];
  const subscribes: readonly EventDef[] = options.subscribes ?? [];
  const sagas = (options.sagas ?? []) as readonly SagaDef[];
  checkSagas(sagas, stores, integrations, publishes, where);
  for (const e of publishes) {
    if (e.service !== contract.name) throw new TypeError(`${where}: publishes '${e.type}', which belongs to service '${e.service}'`);
  }
  const subscribers: Record<string, AnySubscriber> = {};
  for (const e of subscribes) {
    const s = subscriberDefs[e.name];
    if (s?.kind !== 'subscriber') throw new TypeError(`${where}: subscribes to '${e.type}' but gives it no subscriber in .subscriptions({...})`);
    if (subscribers[e.type]) throw new TypeError(`${where}: subscribes to '${e.type}' twice`);
    const p = s.permissions;
    for (const t of [...(p.reads ?? []), ...(p.updates ?? [])]) {
      if (!stores.includes(t)) throw new TypeError(`${where}: subscriber of '${e.type}' uses table '${t.name}', which is not in the service's stores`);
    }
    for (const c of p.calls ?? []) {
      if (!integrations.includes(c)) throw new TypeError(`${where}: subscriber of '${e.type}' calls '${c.name}', which is not in the service's integrations`);
    }
    checkPublishes(p, publishes, `${where}: subscriber of '${e.type}'`);
    subscribers[e.type] = s;
  }
  for (const name of Object.keys(subscriberDefs)) {
    if (!subscribes.some((e) => e.name === name)) throw new TypeError(`${where}: a subscriber is given for '${name}', which is not in subscribes`);
  }

  const tableNames = new Set<string>();
  for (const t of stores) {
    if (tableNames.has(t.name)) throw new TypeError(`${where}: table '${t.name}' is listed twice in stores`);
    tableNames.add(t.name);
  }
  for (const fn of Object.keys(contract.functions)) {
    if (handlers[fn]?.kind !== 'handler') throw new TypeError(`${where}: function '${fn}' has no handler`);
  }
  for (const [fn, h] of Object.entries(handlers)) {
    if (!(fn in contract.functions)) throw new TypeError(`${where}: handler '${fn}' is not a function of the contract`);
    const p = h.permissions;
    for (const t of [...(p.reads ?? []), ...(p.updates ?? [])]) {
      if (!stores.includes(t)) throw new TypeError(`${where}: handler '${fn}' uses table '${t.name}', which is not in the service's stores`);
    }
    for (const c of p.calls ?? []) {
      if (!integrations.includes(c)) throw new TypeError(`${where}: handler '${fn}' calls '${c.name}', which is not in the service's integrations`);
    }
    checkPublishes(p, publishes, `${where}: handler '${fn}'`);
    for (const sg of p.sagas ?? []) {
      if (!sagas.includes(sg as SagaDef)) throw new TypeError(`${where}: handler '${fn}' starts saga '${sg.name}', which is not in the service's sagas`);
    }
    if (p.route !== undefined) routes.push(publicRoute({ ...p, route: p.route }, contract.name, fn, `${where}, handler '${fn}'`));
  }

  return {
    kind: 'service',
    name: contract.name,
    contract,
    stores,
    integrations: integrations.filter((i): i is Contract => !isHttpIntegration(i)),
    http,
    handlers,
    migrations: options.migrations ?? {},
    config: options.config,
    onStart: options.onStart as ServiceDef['onStart'],
    routes,
    publishes,
    subscribes,
    subscribers,
    sagas,
  };
}

function checkSagas(
  sagas: readonly SagaDef[],
  stores: readonly Table[],
  integrations: readonly Integration[],
  publishes: readonly EventDef[],
  where: string,
): void {
  const names = new Set<string>();
  for (const sg of sagas) {
    if (sg?.kind !== 'saga') throw new TypeError(`${where}: sagas must be declared with saga(...)`);
    if (names.has(sg.name)) throw new TypeError(`${where}: saga '${sg.name}' is listed twice`);
    names.add(sg.name);
    const p = sg.permissions;
    for (const t of [...(p.reads ?? []), ...(p.updates ?? [])]) {
      if (!stores.includes(t)) throw new TypeError(`${where}: saga '${sg.name}' uses table '${t.name}', which is not in the service's stores`);
    }
    for (const c of p.calls ?? []) {
      if (!integrations.includes(c)) throw new TypeError(`${where}: saga '${sg.name}' calls '${c.name}', which is not in the service's integrations`);
    }
    checkPublishes(p, publishes, `${where}: saga '${sg.name}'`);
  }
}

/** The HTTP integrations among `integrations`, each name once (and none a contract's). */
function checkIntegrations(integrations: readonly Integration[], where: string): HttpIntegration[] {
  const names = new Set<string>();
  for (const i of integrations) {
    if (i?.kind !== 'contract' && i?.kind !== 'http') throw new TypeError(`${where}: integrations must be contracts or http(...) declarations`);
    if (names.has(i.name)) throw new TypeError(`${where}: integration '${i.name}' is listed twice`);
    names.add(i.name);
  }
  return integrations.filter(isHttpIntegration);
}

function checkPublishes(p: Permissions, publishes: readonly EventDef[], where: string): void {
  for (const e of p.publishes ?? []) {
    if (!publishes.includes(e)) throw new TypeError(`${where} publishes '${e.type}', which is not in the service's publishes`);
  }
}
