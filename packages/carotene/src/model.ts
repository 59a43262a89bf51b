// carotene/model: the declaration model that the runtime, the gateway and the CLI read.
// Service authors import `carotene`; this subpath is for Carotene's own packages.
export {
  type AppDef,
  type AppService,
  type CorsOptions,
  externalServices,
  type GatewayAuth,
  type GatewayLimits,
  implementedService,
  implementedServices,
  type RateLimitOptions,
  type RateLimitRule,
} from './declare/app.ts';
export type { CallOptions, Compatibility, Contract, ErrorsOf, InputOf, OutputOf, ParsedInputOf, RpcDef } from './declare/contract.ts';
export {
  type CertificateSource,
  type DatabaseSource,
  ENVIRONMENT_NAMES,
  type EnvironmentInput,
  type EnvironmentName,
  type EventTransport,
  type IngressTls,
  parseEnvironments,
  type Resources,
} from './declare/environments.ts';
export { GATEWAY_SETTINGS_ENV, type GatewaySettings, gatewaySettingsSchema, parseGatewaySettings } from './declare/gateway-settings.ts';
export { withGatewaySettings } from './declare/with-gateway-settings.ts';
export type { EventDef, EventMessage, PayloadOf, PublishOptions } from './declare/event.ts';
export {
  type HttpClient,
  type HttpIntegration,
  type HttpQuery,
  type HttpRequestOptions,
  type HttpResponse,
  isHttpIntegration,
} from './declare/http-integration.ts';
export type { AuthClaims, Log, Permissions, ReadHandle, StoreOf, WriteHandle } from './declare/handler.ts';
export { type FaultRule, faultSchema, type PolicyLayer, type ResilienceSettings } from './declare/resilience-settings.ts';
export type { SagaFailure, SagaOutcome, SagaRef, SagaStartOptions, SagaStatus } from './declare/saga-ref.ts';
export { type SagaDef, type StepContext, type StepDef, stepFailed } from './declare/saga.ts';
export type { Integration, Migration, PublicRoute, ServiceDef, SqlMigration } from './declare/service.ts';
export type { ExternalDef, ExternalDeploy, ExternalDev } from './declare/external.ts';
export type { KeyOf, RowOf, Table } from './declare/table.ts';
export { CaroteneError, type CarotenePlatformCode, errorFromWire, isCaroteneError, missingPermission, permissionDenied, platformError } from './errors.ts';
export { loadEngine, type EnginePackage } from './load-engine.ts';
export type { AnyDb, AnyTables } from './declare/any-db.ts';
export { permittedCalls } from './permitted-calls.ts';
