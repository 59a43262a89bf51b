// In-process services with their real stores and event machinery, wired through the Transport seam.
import { randomUUID } from 'node:crypto';
import { type AppDef, implementedService } from '../../../carotene/src/declare/app.ts';
import { platformError } from '../../../carotene/src/errors.ts';
import { migrateEventTables } from '../../src/events/platform-tables.ts';
import { EventHost, type EventSettings } from '../../src/service/event-host.ts';
import { createLogger } from '../../src/service/logger.ts';
import { ServiceRuntime } from '../../src/service/service-runtime.ts';
import type { StoreDriver } from '../../src/store/driver.ts';
import { migrate } from '../../src/store/migrations.ts';
import type { CallMeta, Transport } from '../../src/transport/transport.ts';

export interface Opened {
  readonly store: StoreDriver;
  readonly url?: string;
}

export interface Node {
  readonly store: StoreDriver;
  readonly runtime: ServiceRuntime;
  readonly events: EventHost;
}

/** Calls into whichever runtimes are up; a stopped one is UNAVAILABLE, as over HTTP. */
class InProcessTransport implements Transport {
  constructor(readonly nodes: Map<string, Node>) {}
  async call(service: string, fn: string, input: unknown, meta: CallMeta): Promise<unknown> {
    const node = this.nodes.get(service);
    if (!node) throw platformError('UNAVAILABLE', `${service} is down`, { service });
    return node.runtime.invoke(fn, JSON.parse(JSON.stringify(input ?? null)), meta);
  }
  async close(): Promise<void> {}
}

export class Cluster {
  readonly nodes = new Map<string, Node>();
  readonly #transport = new InProcessTransport(this.nodes);
  readonly #open: (service: string) => Promise<Opened>;

  constructor(
    readonly app: AppDef,
    readonly settings: EventSettings,
    open: (service: string) => Promise<Opened>,
    readonly retry = { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 200 },
  ) {
    this.#open = open;
  }

  async start(name: string): Promise<Node> {
    const def = implementedService(this.app, name);
    const { store, url } = await this.#open(name);
    const log = createLogger(name, process.env.CAROTENE_TEST_LOG_LEVEL ?? 'silent');
    await migrate(store.db, def.migrations, name);
    await migrateEventTables(store.db, store.kind, name);
    const events = await EventHost.create({
      app: this.app,
      def,
      store,
      rpc: this.#transport,
      settings: this.settings,
      databaseUrl: url,
      log,
      retry: this.retry,
    });
    const runtime = new ServiceRuntime({ def, store, transport: this.#transport, config: undefined, log, events: events.outbox });
    const node = { store, runtime, events };
    this.nodes.set(name, node);
    await events.start(runtime);
    return node;
  }

  async stop(name: string): Promise<void> {
    const node = this.nodes.get(name);
    if (!node) return;
    this.nodes.delete(name);
    await node.events.close();
    await node.store.close();
  }

  async startAll(): Promise<void> {
    for (const s of this.app.services) await this.start(s.name);
  }

  async close(): Promise<void> {
    for (const name of [...this.nodes.keys()]) await this.stop(name);
    if (this.settings.transport === 'nats') {
      // each test's app has a stream of its own: leave the server as it was
      const { connect } = await import('@nats-io/transport-node');
      const { jetstreamManager } = await import('@nats-io/jetstream');
      const nc = await connect({ servers: this.settings.url });
      const stream = `CAROTENE_${this.app.name.replace(/[^A-Za-z0-9_-]/g, '_').toUpperCase()}`;
      await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
      await nc.close();
    }
  }

  call(service: string, fn: string, input: unknown): Promise<unknown> {
    return this.#transport.call(service, fn, input, { caller: 'test', requestId: randomUUID(), deadline: Date.now() + 10_000 });
  }

  // biome-ignore lint/suspicious/noExplicitAny: rows of any table, read by the test
  rows(service: string, table: string): Promise<any[]> {
    return this.nodes.get(service)!.store.db.selectFrom(table).selectAll().execute();
  }
}

/** Polls until `check` passes or `ms` elapse, then asserts it one last time. */
export async function eventually(check: () => Promise<void>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
