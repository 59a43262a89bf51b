// @carotene/runtime/telemetry: what Carotene's other packages use of this layer.
export { gatewayDuration, gatewayRequests, METRICS_CONTENT_TYPE, renderMetrics } from './metrics.ts';
export { endSpan, headersOf, isSpanContextValid, type Span, SpanKind, startRemoteChild, withSpan } from './spans.ts';
export { startTelemetry } from './start-telemetry.ts';
export { type TraceHeaders, traceHeadersOf } from './trace-context.ts';
