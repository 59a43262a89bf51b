import type { AppDef } from 'carotene/model';
import { externalServices } from 'carotene/model';
import type { Transport } from '../transport/transport.ts';
import { DirectEventTransport } from './direct-transport.ts';
import type { CloudEvent } from './envelope.ts';
import type { EventTransport } from './event-transport.ts';

/**
 * A broker transport (JetStream) for an app with services in other languages: they neither
 * read nor write the stream. The relay delivers events they subscribe to to their gRPC
 * `carotene.events.v1.Events/Deliver`, as direct delivery does, tracked per subscriber (one
 * outbox row each) beside the broker's; events they publish are pushed by them to each
 * subscriber's Deliver, so no consumer is made for them. With no external service it is the broker alone.
 */
export class WithExternalSubscribers implements EventTransport {
  readonly #broker: EventTransport;
  readonly #direct: DirectEventTransport;
  readonly #externals: ReadonlySet<string>;

  constructor(broker: EventTransport, options: { self: string; app: AppDef; rpc: Transport }) {
    this.#broker = broker;
    const externals = externalServices(options.app);
    this.#externals = new Set(externals.map((s) => s.name));
    this.#direct = new DirectEventTransport({ self: options.self, services: externals, rpc: options.rpc });
  }

  get kind(): EventTransport['kind'] {
    return this.#broker.kind;
  }

  destinationsOf(type: string): readonly string[] {
    const pushed = this.#direct.destinationsOf(type);
    return pushed.length === 0 ? this.#broker.destinationsOf(type) : [...this.#broker.destinationsOf(type), ...pushed];
  }

  deliver(destination: string, events: readonly CloudEvent[]): Promise<void> {
    return this.#externals.has(destination) ? this.#direct.deliver(destination, events) : this.#broker.deliver(destination, events);
  }

  /** Subscribes to the broker for the events of Carotene publishers; a service in another language pushes its own. */
  subscribe(service: string, types: readonly string[], accept: Parameters<EventTransport['subscribe']>[2]): Promise<void> {
    const fromBroker = types.filter((t) => !this.#externals.has(t.slice(0, t.indexOf('.'))));
    return fromBroker.length > 0 ? this.#broker.subscribe(service, fromBroker, accept) : Promise.resolve();
  }

  close(): Promise<void> {
    return this.#broker.close();
  }
}
