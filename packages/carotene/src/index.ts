// The service author's surface: declarations only, no I/O.
export {
  app,
  type AppDef,
  type AppService,
  type CorsOptions,
  type GatewayAuth,
  type GatewayLimits,
  type GatewayOptions,
  type RateLimitOptions,
  type RateLimitRule,
} from './declare/app.ts';
export {
  contract,
  rpc,
  type CallOptions,
  type Client,
  type Compatibility,
  type Contract,
  type ErrorStatus,
  type ErrorsOf,
  type InputOf,
  type OutputOf,
  type ParsedInputOf,
  type RpcDef,
} from './declare/contract.ts';
export {
  event,
  type DataOf,
  type EventDef,
  type EventMessage,
  type PayloadOf,
  type PublishOptions,
} from './declare/event.ts';
export { external, type ExternalDef, type ExternalDeploy, type ExternalDev, type ExternalOptions } from './declare/external.ts';
export {
  handler,
  type AuthClaims,
  type HandlerContext,
  type HandlerDef,
  type Permissions,
  type ReadHandle,
  type WriteHandle,
} from './declare/handler.ts';
export {
  http,
  type HttpClient,
  type HttpHeaderValue,
  type HttpIntegration,
  type HttpOptions,
  type HttpQuery,
  type HttpRequestOptions,
  type HttpResponse,
} from './declare/http-integration.ts';
export type { JsonOf } from './declare/json-of.ts';
export { isRejection, type Rejection } from './declare/rejection.ts';
export {
  saga,
  step,
  type ChainedStep,
  type SagaBuilder,
  type SagaChain,
  type SagaDef,
  type SagaPermissions,
  type StepContext,
  type StepDef,
  type StepRetry,
} from './declare/saga.ts';
export type { SagaFailure, SagaOutcome, SagaRef, SagaResultsOf, SagaStartOptions, SagaStatus, StepResults } from './declare/saga-ref.ts';
export {
  implement,
  type Integration,
  type CodeMigration,
  type Migration,
  type PublicRoute,
  type ServiceDef,
  type SqlMigration,
  type StartContext,
} from './declare/service.ts';
export { subscriber, type SubscriberDef } from './declare/subscriber.ts';
export { table, type IndexOptions, type RowOf, type Table, type TableIndex } from './declare/table.ts';
export { CaroteneError, ERROR_CATALOG, isCaroteneError } from './errors.ts';
