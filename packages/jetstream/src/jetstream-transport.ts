import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Log } from 'carotene/model';
import { platformError } from 'carotene/model';
import { backoffMs } from '@carotene/runtime/events';
import { parseEnvelope, type CloudEvent } from '@carotene/runtime/events';
import type { AcceptEvents, EventTransport } from '@carotene/runtime/events';

/** The one outbox destination when a broker fans events out. */
export const JETSTREAM_DESTINATION = '$jetstream';

export interface JetStreamOptions {
  /** `nats://host:4222` (comma-separated for a cluster). */
  readonly servers: string;
  /** The app's name: one stream per app. */
  readonly app: string;
  readonly log: Log;
  /** Hours an event stays in the stream (default 168). */
  readonly maxAgeHours?: number;
  /** Most events handed to the inbox at once (default 256). */
  readonly batchSize?: number;
}

const NANOS_PER_MS = 1_000_000;
// Short on purpose: a message pulled by a process that then died (SIGKILL leaves its pull
// requests on the server) is redelivered after this long; storing a batch takes milliseconds.
const ACK_WAIT_MS = 5_000;
const FETCH_EXPIRES_MS = 2_000;

const token = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_');

/**
 * NATS JetStream: the relay publishes each event once to the app's durable stream (with
 * `Nats-Msg-Id` = the event id, so a relay retry is de-duplicated by the server); each
 * subscribing service has a durable pull consumer per publisher that stores what arrives in its inbox,
 * then acknowledges it; a batch the inbox could not store is nak'ed with backoff.
 */
export class JetStreamEventTransport implements EventTransport {
  readonly kind = 'jetstream';
  readonly #o: JetStreamOptions;
  readonly #stream: string;
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #jsm: JetStreamManager | undefined;
  #closed = false;
  readonly #loops: Promise<void>[] = [];
  readonly #stops = new Set<() => void>();

  constructor(options: JetStreamOptions) {
    this.#o = options;
    this.#stream = `CAROTENE_${token(options.app).toUpperCase()}`;
  }

  /** Subject of one event type: `carotene.<app>.<service>.<Event>`. */
  subjectOf(type: string): string {
    return `carotene.${token(this.#o.app)}.${type}`;
  }

  /** Connects (retrying for ever once connected) and makes sure the stream exists. */
  async connect(): Promise<void> {
    try {
      this.#nc = await connect({ servers: this.#o.servers.split(','), name: `carotene-${this.#o.app}`, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    } catch (cause) {
      throw platformError('UNAVAILABLE', `NATS not reachable at ${this.#o.servers}: ${(cause as Error).message}`, { cause });
    }
    this.#jsm = await jetstreamManager(this.#nc);
    this.#js = jetstream(this.#nc);
    const config = {
      name: this.#stream,
      subjects: [`carotene.${token(this.#o.app)}.>`],
      max_age: (this.#o.maxAgeHours ?? 168) * 3600 * 1000 * NANOS_PER_MS,
      duplicate_window: 120_000 * NANOS_PER_MS,
    };
    try {
      await this.#jsm.streams.info(this.#stream);
    } catch {
      await this.#jsm.streams.add(config).catch(async (err: unknown) => {
        // another service created it meanwhile
        if (
          !(await this.#jsm!.streams.info(this.#stream).then(
            () => true,
            () => false,
          ))
        )
          throw err;
      });
    }
  }

  destinationsOf(): readonly string[] {
    return [JETSTREAM_DESTINATION];
  }

  async deliver(_destination: string, events: readonly CloudEvent[]): Promise<void> {
    const js = this.#js;
    if (!js) throw platformError('UNAVAILABLE', 'JetStream is not connected');
    // pipelined on one connection, so the stream keeps their order
    await Promise.all(events.map((e) => js.publish(this.subjectOf(e.type), JSON.stringify(e), { msgID: e.id, timeout: 10_000 })));
  }

  async subscribe(service: string, types: readonly string[], accept: AcceptEvents): Promise<void> {
    const jsm = this.#jsm;
    if (!jsm || !this.#js) throw platformError('UNAVAILABLE', 'JetStream is not connected');
    // one durable consumer per publisher (a single filter subject works on every server
    // version); the inbox keeps only the subscribed types, and one publisher's keys stay in order
    const publishers = [...new Set(types.map((t) => t.slice(0, t.indexOf('.'))))];
    for (const publisher of publishers) {
      const durable = `${token(this.#o.app)}_${token(service)}_from_${token(publisher)}`;
      const config = {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: ACK_WAIT_MS * NANOS_PER_MS,
        max_deliver: -1,
        max_ack_pending: 10_000,
        filter_subject: `carotene.${token(this.#o.app)}.${publisher}.>`,
      };
      try {
        await jsm.consumers.info(this.#stream, durable);
      } catch {
        await jsm.consumers.add(this.#stream, config);
      }
      this.#loops.push(this.#consume(durable, accept));
    }
  }

  async #consume(durable: string, accept: AcceptEvents): Promise<void> {
    const size = this.#o.batchSize ?? 256;
    let failures = 0;
    while (!this.#closed) {
      try {
        const consumer = await this.#js!.consumers.get(this.#stream, durable);
        while (!this.#closed) {
          // short pull requests rather than one long-lived subscription: after a lost
          // connection the next pull is at most FETCH_EXPIRES_MS away
          const messages = await consumer.fetch({ max_messages: size, expires: FETCH_EXPIRES_MS });
          const stop = () => void messages.stop();
          this.#stops.add(stop);
          let buffer: JsMsg[] = [];
          let scheduled = false;
          let chain: Promise<void> = Promise.resolve();
          const flush = () => {
            scheduled = false;
            const batch = buffer;
            buffer = [];
            if (batch.length > 0) chain = chain.then(() => this.#store(batch, accept));
          };
          for await (const m of messages) {
            buffer.push(m);
            if (!scheduled) {
              scheduled = true;
              setImmediate(flush);
            }
          }
          this.#stops.delete(stop);
          flush();
          await chain;
          failures = 0;
        }
      } catch (err) {
        if (this.#closed) return;
        failures++;
        this.#o.log.warn({ err: String(err), attempt: failures }, 'JetStream consumer stopped; restarting it');
        await new Promise((r) => setTimeout(r, backoffMs(failures, 200, 5000)));
      }
    }
  }

  /** Stores a batch in the inbox, then acknowledges it; nak with backoff when that failed. */
  async #store(batch: readonly JsMsg[], accept: AcceptEvents): Promise<void> {
    const events: CloudEvent[] = [];
    const kept: JsMsg[] = [];
    for (const m of batch) {
      try {
        events.push(parseEnvelope(m.json()));
        kept.push(m);
      } catch (err) {
        // not an event at all: no retry can fix it
        this.#o.log.error({ subject: m.subject, err: String(err) }, 'JetStream message is not a CloudEvent; dropped');
        m.term();
      }
    }
    try {
      await accept(events, {});
      for (const m of kept) m.ack();
    } catch (err) {
      this.#o.log.warn({ err: String(err), events: kept.length }, 'inbox could not store events; nak with backoff');
      for (const m of kept) m.nak(backoffMs(m.info.deliveryCount, 200, 30_000));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const stop of this.#stops) stop();
    await Promise.race([Promise.allSettled(this.#loops), new Promise((r) => setTimeout(r, 2000).unref())]);
    await this.#nc?.drain().catch(() => undefined);
    await this.#nc?.close().catch(() => undefined);
  }
}
