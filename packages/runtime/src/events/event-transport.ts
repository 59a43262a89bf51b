import type { Log } from 'carotene/model';
import type { CloudEvent } from './envelope.ts';

/** Receives a batch of events durably (into the inbox); resolves once they are safe. */
export type AcceptEvents = (events: readonly CloudEvent[], from: { readonly caller?: string }) => Promise<void>;

/**
 * How events travel between services. The outbox, relay and inbox are the same whatever the
 * transport; only this seam differs: direct pushes over the internal RPC transport,
 * JetStream goes through durable streams.
 *
 * ```ts
 * const transport = new DirectEventTransport({ app, rpc });
 * await relay.start(transport); await transport.subscribe('notifications', types, inbox.accept);
 * ```
 */
export interface EventTransport {
  readonly kind: 'direct' | 'jetstream';
  /** Outbox rows one event of `type` becomes: one per destination the relay delivers to. */
  destinationsOf(type: string): readonly string[];
  /** Delivers events, in order, to one destination; resolves when it has them durably. */
  deliver(destination: string, events: readonly CloudEvent[]): Promise<void>;
  /** Starts handing this service's subscribed events to `accept` (direct: nothing to start). */
  subscribe(service: string, types: readonly string[], accept: AcceptEvents): Promise<void>;
  close(): Promise<void>;
}

/** What `@carotene/jetstream` provides the runtime: its event transport, connected before use. */
export interface JetStreamEngine {
  JetStreamEventTransport: new (options: { servers: string; app: string; log: Log; maxAgeHours?: number }) => EventTransport & { connect(): Promise<void> };
}
