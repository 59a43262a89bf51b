// @carotene/jetstream: NATS JetStream behind the runtime's event-transport seam (durable
// streams and consumers). Loaded by the runtime when an environment sets events.transport
// to 'nats'; an app on direct delivery does not install it.
export { JETSTREAM_DESTINATION, JetStreamEventTransport, type JetStreamOptions } from './jetstream-transport.ts';
