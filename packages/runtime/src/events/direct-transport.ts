import { randomUUID } from 'node:crypto';
import type { AppService } from 'carotene/model';
import { DELIVER_FN } from '../transport/grpc-events.ts';
import type { Transport } from '../transport/transport.ts';
import type { CloudEvent } from './envelope.ts';
import type { EventTransport } from './event-transport.ts';

/** How long one push of a batch may take before the relay retries it. */
const DELIVER_TIMEOUT_MS = 10_000;

/**
 * Direct delivery, the default: the publisher's relay pushes each batch to every subscribing
 * service over the internal RPC transport (`$deliver`; to a service in another language, its
 * gRPC `carotene.events.v1.Events/Deliver`), and tracks delivery per subscriber (one outbox
 * row each). No broker to run.
 */
export class DirectEventTransport implements EventTransport {
  readonly kind = 'direct';
  readonly #self: string;
  readonly #subscribers = new Map<string, string[]>();
  readonly #rpc: Transport;

  constructor(options: { self: string; services: readonly Pick<AppService, 'name' | 'subscribes'>[]; rpc: Transport }) {
    this.#self = options.self;
    this.#rpc = options.rpc;
    for (const s of options.services) {
      for (const e of s.subscribes) {
        const list = this.#subscribers.get(e.type) ?? [];
        list.push(s.name);
        this.#subscribers.set(e.type, list);
      }
    }
  }

  destinationsOf(type: string): readonly string[] {
    return this.#subscribers.get(type) ?? [];
  }

  async deliver(destination: string, events: readonly CloudEvent[]): Promise<void> {
    await this.#rpc.call(destination, DELIVER_FN, { events }, { caller: this.#self, requestId: randomUUID(), deadline: Date.now() + DELIVER_TIMEOUT_MS });
  }

  async subscribe(): Promise<void> {
    // the service's runtime answers DELIVER_FN itself
  }

  async close(): Promise<void> {
    // the RPC transport belongs to the host
  }
}
