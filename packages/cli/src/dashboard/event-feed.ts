import { implementedServices } from 'carotene/model';
import type { AppDef } from 'carotene/model';
import { listDeadLetters, replayDeadLetters } from '@carotene/runtime/events';
import { INBOX, migrateEventTables, OUTBOX, type InboxRow, type OutboxRow } from '@carotene/runtime/events';
import type { StoreDriver } from '@carotene/runtime/store';

/** How far one subscriber got with one event. */
export type DeliveryState = 'handled' | 'pending' | 'dead' | 'delivering' | 'in transit';

export interface SubscriberDelivery {
  readonly service: string;
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly error?: string;
}

/** One event a service published, and where each subscriber is with it. */
export interface RecentEvent {
  readonly id: string;
  readonly type: string;
  readonly key: string;
  readonly publisher: string;
  readonly time: number;
  readonly data: unknown;
  /** The trace the event was published in (from its envelope's `traceparent`). */
  readonly traceId?: string;
  readonly deliveries: readonly SubscriberDelivery[];
}

export interface DeadLetterView {
  readonly service: string;
  readonly id: string;
  readonly type: string;
  readonly key: string;
  readonly source: string;
  readonly attempts: number;
  readonly failedAt: number;
  readonly error: string;
  readonly data: unknown;
  readonly traceId?: string;
}

/** Opens (or returns the open) store of a service. */
export type StoreOpener = (service: string) => Promise<StoreDriver>;

/**
 * Reads the events of a running app from the services' own tables: what each publisher's
 * outbox holds, each subscriber's inbox state for those events, and the dead letters;
 * replays a dead letter with the same function `carrot events dlq replay` uses.
 *
 * ```ts
 * const feed = new EventFeed(app, (service) => openStore({ file: sqliteFile(dataDir, service) }));
 * await feed.recent(50);
 * await feed.replay('notifications', 'evt_1');
 * ```
 */
export class EventFeed {
  readonly #app: AppDef;
  readonly #open: StoreOpener;
  readonly #ready = new Map<string, Promise<StoreDriver>>();

  constructor(app: AppDef, open: StoreOpener) {
    this.#app = app;
    this.#open = open;
  }

  /** The service's store, with Carotene's event tables in it (as `carrot events dlq` makes sure). */
  #store(service: string): Promise<StoreDriver> {
    let ready = this.#ready.get(service);
    if (!ready) {
      ready = this.#open(service).then(async (store) => {
        await migrateEventTables(store.db, store.kind, service);
        return store;
      });
      ready.catch(() => this.#ready.delete(service));
      this.#ready.set(service, ready);
    }
    return ready;
  }

  /** The newest events published by any Carotene service (an external one keeps no outbox here), newest first, with per-subscriber delivery. */
  async recent(limit = 50): Promise<RecentEvent[]> {
    const publishers = implementedServices(this.#app)
      .filter((s) => (s.publishes ?? []).length > 0)
      .map((s) => s.name);
    const events: Array<Omit<RecentEvent, 'deliveries'> & { outbox: OutboxRow[] }> = [];
    for (const publisher of publishers) {
      const rows = await this.#rows<OutboxRow>(publisher, OUTBOX, limit * 4);
      const byId = new Map<string, OutboxRow[]>();
      for (const row of rows) byId.set(row.id, [...(byId.get(row.id) ?? []), row]);
      for (const [id, outbox] of byId) {
        const first = outbox[0]!;
        events.push({ id, type: first.type, key: first.key, publisher, time: Number(first.created_at), ...contentOf(first.envelope), outbox });
      }
    }
    const newest = events.sort((a, b) => b.time - a.time).slice(0, limit);
    const inboxes = new Map<string, Map<string, InboxRow>>();
    for (const subscriber of implementedServices(this.#app).filter((s) => (s.subscribes ?? []).length > 0)) {
      const ids = newest.filter((e) => subscriber.subscribes.some((t) => t.type === e.type)).map((e) => e.id);
      inboxes.set(subscriber.name, await this.#inboxRows(subscriber.name, ids));
    }
    return newest.map(({ outbox, ...event }) => ({
      ...event,
      deliveries: implementedServices(this.#app)
        .filter((s) => (s.subscribes ?? []).some((t) => t.type === event.type))
        .map((s) => deliveryOf(s.name, inboxes.get(s.name)?.get(event.id), outbox.find((o) => o.destination === s.name) ?? outbox[0])),
    }));
  }

  /** Every dead letter of every subscribing service, oldest first. */
  async deadLetters(): Promise<DeadLetterView[]> {
    const out: DeadLetterView[] = [];
    for (const s of implementedServices(this.#app).filter((svc) => (svc.subscribes ?? []).length > 0)) {
      const store = await this.#store(s.name);
      const dead = await listDeadLetters(store.db);
      for (const d of dead) {
        out.push({
          service: s.name,
          id: d.id,
          type: d.type,
          key: d.key,
          source: d.source,
          attempts: d.attempts,
          failedAt: Number(d.failed_at),
          error: d.error,
          ...contentOf(d.envelope),
        });
      }
    }
    return out.sort((a, b) => a.failedAt - b.failedAt);
  }

  /** Puts one dead letter back in its service's inbox; false when there is no such dead letter. */
  async replay(service: string, id: string): Promise<boolean> {
    if (!implementedServices(this.#app).some((s) => s.name === service)) return false;
    const store = await this.#store(service);
    return (await replayDeadLetters(store.db, [id])).includes(id);
  }

  async #rows<Row>(service: string, table: string, limit: number): Promise<Row[]> {
    const store = await this.#store(service);
    return (await store.db.selectFrom(table).selectAll().orderBy('seq', 'desc').limit(limit).execute()) as Row[];
  }

  async #inboxRows(service: string, ids: readonly string[]): Promise<Map<string, InboxRow>> {
    if (ids.length === 0) return new Map();
    const store = await this.#store(service);
    const rows = (await store.db
      .selectFrom(INBOX)
      .selectAll()
      .where('id', 'in', [...ids])
      .execute()) as InboxRow[];
    return new Map(rows.map((r) => [r.id, r]));
  }
}

function deliveryOf(service: string, inbox: InboxRow | undefined, outbox: OutboxRow | undefined): SubscriberDelivery {
  if (inbox) {
    const state: DeliveryState = inbox.status === 'done' ? 'handled' : inbox.status === 'dead' ? 'dead' : 'pending';
    return { service, state, attempts: Number(inbox.attempts), ...(inbox.last_error ? { error: inbox.last_error } : {}) };
  }
  // not in the subscriber's inbox yet: still in the publisher's outbox, or on its way (a broker)
  if (outbox && outbox.delivered_at === null) {
    return { service, state: 'delivering', attempts: Number(outbox.attempts), ...(outbox.last_error ? { error: outbox.last_error } : {}) };
  }
  return { service, state: 'in transit', attempts: 0 };
}

/** An envelope's data, and the trace id of its W3C `traceparent` (`00-<trace>-<span>-<flags>`). */
function contentOf(envelope: string): { data: unknown; traceId?: string } {
  try {
    const e = JSON.parse(envelope) as { data?: unknown; traceparent?: unknown };
    const traceId = typeof e.traceparent === 'string' ? /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(e.traceparent)?.[1] : undefined;
    return { data: e.data, ...(traceId ? { traceId } : {}) };
  } catch {
    return { data: undefined };
  }
}
