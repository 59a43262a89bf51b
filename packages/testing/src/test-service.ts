import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { CallOptions, Contract, ErrorsOf, HttpIntegration, InputOf, Integration, OutputOf, ParsedInputOf } from 'carotene/model';
import type { EventDef, PayloadOf } from 'carotene/model';
import type { AuthClaims, StoreOf } from 'carotene/model';
import type { ServiceDef } from 'carotene/model';
import type { Table } from 'carotene/model';
import type { CaroteneError } from 'carotene/model';
import { buildEnvelope } from '@carotene/runtime/events';
import { Inbox } from '@carotene/runtime/events';
import { Outbox } from '@carotene/runtime/events';
import { INBOX, migrateEventTables, OUTBOX } from '@carotene/runtime/events';
import { createLogger, type Logger } from '@carotene/runtime/service';
import { serviceConfig } from '@carotene/runtime/service';
import { ServiceRuntime } from '@carotene/runtime/service';
import { openStore } from '@carotene/runtime/store';
import { migrate } from '@carotene/runtime/store';
import { type HttpMock, mockHttp, type RecordedHttpRequest } from './mock-http.ts';
import { MockTransport, type RecordedCall } from './mock-transport.ts';

type Mock<R> =
  | OutputOf<R>
  | ((input: ParsedInputOf<R>, tools: { reject(code: ErrorsOf<R>, message?: string): CaroteneError }) => OutputOf<R> | Promise<OutputOf<R>>);

type Named<L extends readonly { name: string }[], N> = Extract<L[number], { name: N }>;

// Keyed by name without an `as` clause: TypeScript gives mock functions their parameter
// types only through plain mapped types.
/**
 * Stand-ins for the integrations: per contract, its functions (type-checked against the
 * provider's contract); per HTTP integration, an {@link HttpMock}.
 */
export type Mocks<G extends readonly Integration[]> = {
  readonly [N in G[number]['name']]?: Named<G, N> extends HttpIntegration
    ? HttpMock
    : {
        readonly [F in keyof Extract<Named<G, N>, Contract>['functions']]?: Mock<Extract<Named<G, N>, Contract>['functions'][F]>;
      };
};

/** Rows to seed, per table name. */
export type Given<S extends readonly Table[]> = {
  readonly [N in S[number]['name']]?: readonly z.input<Named<S, N>['schema']>[];
};

export interface TestCallOptions extends CallOptions {
  /** The end user, as the gateway would pass it on. */
  readonly auth?: AuthClaims;
  /** The calling service (default `test`). */
  readonly caller?: string;
}

export interface TestService<C extends Contract, S extends readonly Table[]> {
  /** Calls the service's own handlers through the full pipeline (validation, permissions, typed errors). */
  readonly call: {
    readonly [K in keyof C['functions']]: (input: InputOf<C['functions'][K]>, options?: TestCallOptions) => Promise<OutputOf<C['functions'][K]>>;
  };
  /** Every table of the service, readable and writable, for arranging and asserting. */
  readonly store: StoreOf<{ updates: S }>;
  /** Integration calls the handlers made, in order. */
  readonly calls: readonly RecordedCall[];
  /** Requests the handlers sent to outside HTTP APIs (`ctx.http`), in order. */
  readonly requests: readonly RecordedHttpRequest[];
  /** Events the handlers published and committed, in publish order. */
  published(): Promise<PublishedEvent[]>;
  /**
   * Delivers one event to the service's subscriber through its inbox, as a publisher would;
   * resolves when the subscriber has committed (rejects with its error). Delivering the same
   * `id` twice runs the subscriber once.
   */
  deliver<E extends EventDef>(event: E, data: PayloadOf<E>, options?: { key?: string; id?: string }): Promise<void>;
  close(): Promise<void>;
}

/** One event as the harness saw it published. */
export interface PublishedEvent {
  readonly type: string;
  readonly key: string;
  readonly data: unknown;
}

export interface TestServiceOptions<S extends readonly Table[], G extends readonly Integration[], Cfg> {
  readonly given?: Given<S>;
  readonly mock?: Mocks<G>;
  /** The service's config; validated against its schema like the app config. */
  readonly config?: Cfg;
  /** Run the service's onStart (default true). */
  readonly onStart?: boolean;
  /** A PostgreSQL URL instead of the default in-memory SQLite. */
  readonly databaseUrl?: string;
  readonly logger?: Logger;
}

/**
 * Runs one service in-process on an in-memory SQLite database with its migrations applied,
 * seeded with `given`, its integrations replaced by `mock`. No other service runs.
 *
 * ```ts
 * const t = await testService(orders, { mock: { catalog: { reserveStock: { reserved: true } } } });
 * const order = await t.call.createOrder({ items: [...] }, { auth: { sub: 'u1', roles: [], claims: {} } });
 * ```
 */
export async function testService<C extends Contract, S extends readonly Table[], G extends readonly Integration[], Cfg>(
  def: ServiceDef<C, S, G, Cfg>,
  options: TestServiceOptions<NoInfer<S>, NoInfer<G>, NoInfer<Cfg>> = {},
): Promise<TestService<C, S>> {
  const erased = def as unknown as ServiceDef;
  if ((erased as { kind?: string }).kind === 'external') {
    throw new TypeError(`testService: '${def.name}' is an external service; test it in its own language, and mock it here in the integrations of its callers`);
  }
  const log = options.logger ?? createLogger(def.name, process.env.CAROTENE_TEST_LOG_LEVEL ?? 'silent');
  const config = serviceConfig(undefined, erased, options.config);
  const store = await openStore(options.databaseUrl ? { url: options.databaseUrl } : { file: ':memory:' });
  try {
    await migrate(store.db, erased.migrations, def.name);
    await migrateEventTables(store.db, store.kind, def.name);
    const mocks = (options.mock ?? {}) as Record<string, never>;
    const transport = new MockTransport(erased.integrations, mocks);
    const requests: RecordedHttpRequest[] = [];
    // published events stay in the outbox, for `published()` to read
    const outbox = new Outbox({ engine: store.kind, destinationsOf: () => ['$test'], onCommit: () => {} });
    const inbox = new Inbox({ db: store.db, service: def.name, subscribes: erased.subscribes, onAccepted: () => {} });
    const runtime = new ServiceRuntime({ def: erased, store, transport, config, log, events: outbox, httpSender: mockHttp(mocks, requests) });
    const full = runtime.fullStore as Record<string, { insert(row: unknown): Promise<unknown> }>;
    if (options.onStart !== false) await erased.onStart?.({ store: full as never, config, log });
    // sagas started by handlers run here against the mocks; unfinished ones resume like in a host
    runtime.sagas?.resume();
    for (const [tableName, rows] of Object.entries((options.given ?? {}) as Record<string, readonly unknown[]>)) {
      for (const row of rows) await full[tableName]!.insert(row);
    }
    const call: Record<string, (input: unknown, o?: TestCallOptions) => Promise<unknown>> = {};
    for (const fn of Object.keys(def.contract.functions)) {
      call[fn] = (input, o) =>
        runtime.invoke(fn, input, {
          caller: o?.caller ?? 'test',
          requestId: randomUUID(),
          deadline: Date.now() + (o?.timeoutMs ?? 10_000),
          auth: o?.auth,
          idempotencyKey: o?.idempotencyKey,
        });
    }
    return {
      call: call as TestService<C, S>['call'],
      store: full as unknown as TestService<C, S>['store'],
      calls: transport.calls,
      requests,
      async published() {
        const rows = (await store.db.selectFrom(OUTBOX).select(['type', 'key', 'envelope']).orderBy('seq').execute()) as {
          type: string;
          key: string;
          envelope: string;
        }[];
        return rows.map((r) => ({ type: r.type, key: r.key, data: (JSON.parse(r.envelope) as { data: unknown }).data }));
      },
      async deliver(event, data, o) {
        const built = buildEnvelope(event, event.schema.parse(data), o?.key);
        const envelope = o?.id ? { ...built, id: o.id } : built;
        await inbox.accept([envelope]);
        await store.db.transaction().execute(async (trx) => {
          const row = await trx.selectFrom(INBOX).select('seq').where('id', '=', envelope.id).where('status', '=', 'pending').executeTakeFirst();
          if (!row) return;
          await runtime.handleEvent(trx, envelope, 1);
          await trx.updateTable(INBOX).set({ status: 'done', attempts: 1, handled_at: Date.now() }).where('id', '=', envelope.id).execute();
        });
      },
      async close() {
        await runtime.sagas?.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
