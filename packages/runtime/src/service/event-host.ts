import type { AppDef } from 'carotene/model';
import type { ServiceDef } from 'carotene/model';
import { externalServices, loadEngine, platformError } from 'carotene/model';
import { DirectEventTransport } from '../events/direct-transport.ts';
import { WithExternalSubscribers } from '../events/external-subscribers.ts';
import { DELIVER_FN } from '../transport/grpc-events.ts';
import type { z } from 'zod';
import { EventBatch, type CloudEvent } from '../events/envelope.ts';
import type { EventTransport, JetStreamEngine } from '../events/event-transport.ts';
import { Inbox } from '../events/inbox.ts';
import { InboxWorker, type RetryPolicy } from '../events/inbox-worker.ts';
import { watchServiceTables } from '../events/event-metrics.ts';
import { Outbox, OUTBOX_CHANNEL } from '../events/outbox.ts';
import { OutboxRelay } from '../events/relay.ts';
import type { PostgresEngine, StoreDriver } from '../store/driver.ts';
import type { Transport } from '../transport/transport.ts';
import type { Logger } from './logger.ts';
import type { ServiceRuntime } from './service-runtime.ts';
import { zodIssues } from './zod-issues.ts';

/** How this process's events travel: over the internal transport, or through JetStream. */
export type EventSettings = { readonly transport: 'direct' } | { readonly transport: 'nats'; readonly url: string; readonly maxAgeHours?: number | undefined };

export const EVENTS_ENV = 'CAROTENE_EVENTS';
export const ENVIRONMENT_ENV = 'CAROTENE_ENVIRONMENT';
export const MAX_ATTEMPTS_ENV = 'CAROTENE_EVENTS_MAX_ATTEMPTS';

/**
 * The event transport of this process: `CAROTENE_EVENTS` (`direct` or a `nats://` URL) when
 * set, else the `events` of the app's environment (`CAROTENE_ENVIRONMENT`, default
 * `development`), else direct.
 */
export function eventSettings(app: AppDef, env: NodeJS.ProcessEnv = process.env): EventSettings {
  const forced = env[EVENTS_ENV]?.trim();
  if (forced) {
    if (forced === 'direct') return { transport: 'direct' };
    if (/^nats:\/\//.test(forced)) return { transport: 'nats', url: forced };
    throw platformError('INVALID_CONFIG', `${EVENTS_ENV} must be 'direct' or a nats:// URL, got '${forced}'`);
  }
  const environments = (app as { environments?: Record<string, { events?: EventSettings } | undefined> }).environments;
  return environments?.[env[ENVIRONMENT_ENV] || 'development']?.events ?? { transport: 'direct' };
}

/** Refuses the batch (INVALID_INPUT, with the path in the event) when an event's data does not match the subscribed schema. */
function checkData(events: readonly CloudEvent[], schemas: ReadonlyMap<string, z.ZodType>): void {
  events.forEach((event, i) => {
    const schema = schemas.get(event.type);
    const checked = schema?.safeParse(event.data);
    if (!checked || checked.success) return;
    const { issues, text } = zodIssues(checked.error);
    const at = issues.map((issue) => ({ ...issue, path: `events[${i}].data${issue.path === '(root)' ? '' : `.${issue.path}`}` }));
    throw platformError('INVALID_INPUT', `'${event.type}' ${event.id} does not match its schema: ${text}`, { details: at });
  });
}

function retryFromEnv(env: NodeJS.ProcessEnv): Partial<RetryPolicy> {
  const max = Number(env[MAX_ATTEMPTS_ENV]);
  return Number.isInteger(max) && max > 0 ? { maxAttempts: max } : {};
}

export interface EventHostOptions {
  readonly app: AppDef;
  readonly def: ServiceDef;
  readonly store: StoreDriver;
  /** The internal RPC transport (direct delivery pushes over it). */
  readonly rpc: Transport;
  readonly settings: EventSettings;
  /** The PostgreSQL URL of the service's store, for LISTEN/NOTIFY. */
  readonly databaseUrl?: string | undefined;
  readonly log: Logger;
  readonly retry?: Partial<RetryPolicy>;
}

/**
 * A service's event machinery: the outbox its handlers publish into, the relay that
 * delivers it, the inbox that receives its subscriptions and the worker that runs them.
 *
 * ```ts
 * const events = await createEventHost({ app, def, store, rpc, settings: eventSettings(app), log });
 * const runtime = new ServiceRuntime({ ..., events: events.outbox });
 * await events.start(runtime);
 * ```
 */
export class EventHost {
  readonly outbox: Outbox;
  readonly relay: OutboxRelay;
  readonly inbox: Inbox;
  readonly transport: EventTransport;
  worker: InboxWorker | undefined;
  readonly #o: EventHostOptions;
  #listener: { close(): Promise<void> } | undefined;
  /** Stops exporting the outbox, dead letters and pool as metrics. */
  readonly #unwatch: () => void;

  private constructor(o: EventHostOptions, transport: EventTransport) {
    this.#o = o;
    this.transport = transport;
    const { store, def, log } = o;
    this.relay = new OutboxRelay({ db: store.db, engine: store.kind, transport, log: log.child({ part: 'relay' }) });
    this.outbox = new Outbox({ engine: store.kind, destinationsOf: (t) => transport.destinationsOf(t), onCommit: () => this.relay.wake() });
    this.#unwatch = watchServiceTables(def.name, store);
    this.inbox = new Inbox({ db: store.db, service: def.name, subscribes: def.subscribes, onAccepted: () => this.worker?.wake() });
  }

  static async create(o: EventHostOptions): Promise<EventHost> {
    if (o.settings.transport === 'nats') {
      const { JetStreamEventTransport } = await loadEngine<JetStreamEngine>('@carotene/jetstream', "events over NATS JetStream (events.transport 'nats')");
      const js = new JetStreamEventTransport({
        servers: o.settings.url,
        app: o.app.name,
        log: o.log.child({ part: 'jetstream' }),
        maxAgeHours: o.settings.maxAgeHours,
      });
      await js.connect();
      return new EventHost(o, new WithExternalSubscribers(js, { self: o.def.name, app: o.app, rpc: o.rpc }));
    }
    return new EventHost(o, new DirectEventTransport({ self: o.def.name, services: o.app.services, rpc: o.rpc }));
  }

  /** Starts receiving and relaying; `runtime` runs the subscribers. */
  async start(runtime: ServiceRuntime): Promise<void> {
    const { def, store, log } = this.#o;
    const externals = new Set(externalServices(this.#o.app).map((s) => s.name));
    const schemas = new Map(def.subscribes.map((e) => [e.type, e.schema]));
    runtime.reserve(DELIVER_FN, async (input, meta) => {
      const batch = EventBatch.safeParse(input);
      if (!batch.success) {
        const { issues, text } = zodIssues(batch.error);
        throw platformError('INVALID_INPUT', `${DELIVER_FN}: not a batch of CloudEvents: ${text}`, { details: issues });
      }
      // a Carotene publisher validated its events before they entered its outbox; a service in
      // another language is checked here, so a wrong event is refused to its sender, not dead-lettered
      if (externals.has(meta.caller)) checkData(batch.data.events, schemas);
      await this.inbox.accept(batch.data.events, { caller: meta.caller });
      return { accepted: batch.data.events.length };
    });
    if (def.subscribes.length > 0) {
      this.worker = new InboxWorker({
        db: store.db,
        engine: store.kind,
        handle: (trx, event, attempt) => runtime.handleEvent(trx, event, attempt),
        log: log.child({ part: 'inbox' }),
        retry: { ...retryFromEnv(process.env), ...this.#o.retry },
      });
      await this.worker.start();
      await this.transport.subscribe(
        def.name,
        def.subscribes.map((e) => e.type),
        this.inbox.accept,
      );
    }
    this.relay.start();
    if (store.kind === 'postgres' && this.#o.databaseUrl) {
      // loaded on demand, like the PostgreSQL driver: a process on SQLite never loads pg
      const { listen } = await loadEngine<PostgresEngine>('@carotene/postgres', 'a PostgreSQL outbox');
      this.#listener = listen(this.#o.databaseUrl, OUTBOX_CHANNEL, () => this.relay.wake(), log);
    }
  }

  async close(): Promise<void> {
    this.#unwatch();
    await this.#listener?.close();
    await this.relay.close();
    await this.transport.close();
    await this.worker?.close();
  }
}
