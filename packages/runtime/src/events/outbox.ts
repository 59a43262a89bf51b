import type { AnyDb } from 'carotene/model';
import { sql } from 'kysely';
import type { EventDef, PublishOptions } from 'carotene/model';
import { platformError } from 'carotene/model';
import type { StoreEngine } from '../store/driver.ts';
import { headersOf, inSpan, SpanKind } from '../telemetry/spans.ts';
import type { TraceHeaders } from '../telemetry/trace-context.ts';
import { buildEnvelope, type CloudEvent } from './envelope.ts';
import { OUTBOX } from './platform-tables.ts';

/** Channel of PostgreSQL's NOTIFY: a commit that published wakes every replica's relay. */
export const OUTBOX_CHANNEL = 'carotene_outbox';

export interface OutboxOptions {
  readonly engine: StoreEngine;
  /** Where one event of `type` must go: each subscribing service, or the broker. */
  readonly destinationsOf: (type: string) => readonly string[];
  /** Called after a commit that wrote events (wakes the relay in this process). */
  readonly onCommit: () => void;
}

/**
 * The service's transactional outbox: `ctx.publish` writes each event here, one row per
 * destination, in the handler's own transaction. The relay delivers what commits.
 */
export class Outbox {
  readonly #options: OutboxOptions;

  constructor(options: OutboxOptions) {
    this.#options = options;
  }

  async publish(trx: AnyDb, event: EventDef, payload: unknown, options: PublishOptions | undefined, owner: string, trace: TraceHeaders = {}): Promise<void> {
    const parsed = event.schema.safeParse(payload);
    if (!parsed.success) {
      throw platformError('INVALID_EVENT', `${owner} published '${event.type}' with a payload that does not match its schema: ${parsed.error.message}`);
    }
    // a short producer span whose context the envelope carries to every subscriber
    const attributes = {
      'carotene.service': event.service,
      'messaging.system': 'carotene',
      'messaging.operation.type': 'send',
      'messaging.destination.name': event.type,
    };
    await inSpan(`publish ${event.type}`, SpanKind.PRODUCER, trace, attributes, async (span) => {
      const envelope = buildEnvelope(event, parsed.data, options?.key, headersOf(span, trace));
      span.setAttribute('messaging.message.id', envelope.id);
      await this.write(trx, [envelope]);
    });
  }

  /** Writes envelopes in `trx`; on PostgreSQL also queues a NOTIFY, which is sent at commit. */
  async write(trx: AnyDb, envelopes: readonly CloudEvent[]): Promise<void> {
    const now = Date.now();
    const rows = envelopes.flatMap((e) =>
      this.#options.destinationsOf(e.type).map((destination) => ({
        id: e.id,
        destination,
        type: e.type,
        key: e.subject,
        envelope: JSON.stringify(e),
        created_at: now,
      })),
    );
    if (rows.length === 0) return;
    await trx.insertInto(OUTBOX).values(rows).execute();
    if (this.#options.engine === 'postgres') await sql`select pg_notify(${OUTBOX_CHANNEL}, '')`.execute(trx);
  }

  committed(): void {
    this.#options.onCommit();
  }
}
