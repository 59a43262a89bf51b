// @carotene/runtime/service: what Carotene's other packages use of this layer.
export { type GroupMember, groupToEnv } from './group-env.ts';
export { loadApp, preloadApp, readRegistry } from './load-app.ts';
export type { HttpSender } from './http-clients.ts';
export { createLogger, type Logger } from './logger.ts';
export { ENV, type ProcessEnv, readProcessEnv, sqliteFile, tlsOf, toEnv } from './process-env.ts';
export { serviceConfig } from './service-config.ts';
export { ServiceRuntime } from './service-runtime.ts';
export { grpcContracts, PROTO_DIR_ENV } from './grpc-contracts.ts';
