// @carotene/runtime: the machinery that runs declared services.
export { createLogger, type Logger } from './service/logger.ts';
export { loadApp } from './service/load-app.ts';
export { ServiceRuntime } from './service/service-runtime.ts';
export { startServiceHost, type HostOptions, type ServiceHost } from './service/service-host.ts';
export { startGroupHost, type GroupHost, type GroupHostOptions } from './service/group-host.ts';
export { HttpTransport, type HttpTransportOptions } from './transport/http-transport.ts';
export { InProcessTransport, LocalServices, type LocalService } from './transport/in-process-transport.ts';
export { RoutingTransport } from './transport/routing-transport.ts';
export type { CallMeta, Registry, ServiceAddress, Transport } from './transport/transport.ts';
export { breakerStates, onBreakerStateChange, type BreakerState, type BreakerStateChange } from './resilience/breaker-hooks.ts';
export { CallPolicies, installCallPolicies } from './resilience/call-policies.ts';
export { setupResilience } from './resilience/setup-resilience.ts';
