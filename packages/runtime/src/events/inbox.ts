import type { AnyDb } from 'carotene/model';
import type { EventDef } from 'carotene/model';
import { platformError } from 'carotene/model';
import { publisherOf, type CloudEvent } from './envelope.ts';
import { INBOX } from './platform-tables.ts';

export interface InboxOptions {
  readonly db: AnyDb;
  readonly service: string;
  readonly subscribes: readonly EventDef[];
  /** Called after events were stored: wakes the worker. */
  readonly onAccepted: () => void;
}

/**
 * The receiving half of a subscriber: stores each delivered event once, keyed by its id.
 * A redelivered event (the relay or the broker retrying) is acknowledged and ignored; the
 * worker runs each stored event's subscriber exactly once.
 */
export class Inbox {
  readonly #o: InboxOptions;
  readonly #types: ReadonlySet<string>;

  constructor(options: InboxOptions) {
    this.#o = options;
    this.#types = new Set(options.subscribes.map((e) => e.type));
  }

  /** Stores the events this service subscribes to; resolves when they are durable. */
  readonly accept = async (events: readonly CloudEvent[], from: { readonly caller?: string } = {}): Promise<void> => {
    const now = Date.now();
    const rows = [];
    for (const e of events) {
      if (from.caller !== undefined && publisherOf(e) !== from.caller) {
        throw platformError('FORBIDDEN', `${from.caller} delivered '${e.type}' from ${e.source}; a service delivers only its own events`);
      }
      // not (or no longer) subscribed: acknowledged, not kept
      if (!this.#types.has(e.type)) continue;
      rows.push({
        id: e.id,
        type: e.type,
        key: e.subject,
        source: e.source,
        envelope: JSON.stringify(e),
        status: 'pending',
        attempts: 0,
        next_attempt_at: 0,
        received_at: now,
      });
    }
    if (rows.length > 0) {
      await this.#o.db
        .insertInto(INBOX)
        .values(rows)
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      this.#o.onAccepted();
    }
  };
}
