// @carotene/runtime/transport: what Carotene's other packages use of this layer.
export { HttpTransport, logInstanceChanges } from './http-transport.ts';
export { type CallMeta, instanceUrls, protocolOf, type Registry, type ServiceAddress, type Transport } from './transport.ts';
