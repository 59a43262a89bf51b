import {
  context,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import { randomFillSync } from 'node:crypto';
import {
  boundTracestate,
  FLAG_RANDOM,
  FLAG_SAMPLED,
  formatTraceparent,
  parseTraceparent,
  parseTracestate,
  type TraceHeaders,
  W3CTraceState,
} from './trace-context.ts';

export { isSpanContextValid, SpanKind, type Span };

/** The instrumentation scope of every Carotene span. */
const SCOPE = 'carotene';

function tracer() {
  return trace.getTracer(SCOPE);
}

/**
 * How this process traces, set by `startTracing`: not at all (the OpenTelemetry API's no-op),
 * `ids` only (no collector: spans record nothing, their ids are made here and handed on
 * explicitly), or `exporting` (the SDK records spans, and the active span follows async code).
 */
export type TracingMode = 'none' | 'ids' | 'exporting';

let mode: TracingMode = 'none';

export function setTracingMode(next: TracingMode): void {
  mode = next;
}

/**
 * True while spans are exported: then the active span follows async code and log lines
 * get their ids from it. Otherwise the ids must be handed on explicitly.
 */
export function activeSpanFollowsAsyncCode(): boolean {
  return mode === 'exporting';
}

/**
 * The span context of a parent that arrived from another process: a valid `traceparent` (with
 * its bounded `tracestate`), or `undefined` when it is absent or invalid (an invalid
 * traceparent takes its tracestate with it).
 */
function carriedParent(carried: TraceHeaders): SpanContext | undefined {
  const parent = parseTraceparent(carried.traceparent);
  if (!parent) return undefined;
  // a malformed tracestate is dropped, the traceparent still continued
  const state = parseTracestate(carried.tracestate);
  return {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.flags & (FLAG_SAMPLED | FLAG_RANDOM),
    isRemote: true,
    ...(state === undefined || state.length === 0 ? {} : { traceState: new W3CTraceState(state) }),
  };
}

/** The context a span continues when its parent arrived from another process, or a fresh root. */
export function remoteContext(carried: TraceHeaders): Context {
  const parent = carriedParent(carried);
  return parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
}

/**
 * A span of ids only (tracing without a collector): the trace of the carried parent, with its
 * tracestate, or a new one; a new span id; not sampled. The same ids the SDK's tracer would
 * give with nothing recorded, for a fraction of the cost (docs/benchmarks.md).
 */
function idsOnlySpan(carried: TraceHeaders): Span {
  const parent = carriedParent(carried);
  return trace.wrapSpanContext({
    traceId: parent?.traceId ?? randomId(16),
    spanId: randomId(8),
    traceFlags: parent ? parent.traceFlags & FLAG_RANDOM : FLAG_RANDOM,
    ...(parent?.traceState === undefined ? {} : { traceState: parent.traceState }),
  });
}

const randomPool = Buffer.allocUnsafe(4096);
let randomAt = randomPool.length;

/** `bytes` random bytes as lowercase hex, never all zeros (an invalid id). */
function randomId(bytes: number): string {
  for (;;) {
    if (randomAt + bytes > randomPool.length) {
      randomFillSync(randomPool);
      randomAt = 0;
    }
    const id = randomPool.toString('hex', randomAt, (randomAt += bytes));
    if (/[^0]/.test(id)) return id;
  }
}

/**
 * Starts a span whose parent is the active span of this process when there is one, else
 * the trace context `carried` in from elsewhere.
 *
 * ```ts
 * const span = startSpan('orders.checkout', SpanKind.SERVER, meta, { 'carotene.service': 'orders' });
 * ```
 */
export function startSpan(name: string, kind: SpanKind, carried: TraceHeaders, attributes: Attributes): Span {
  // ids only: no context manager, so no span is ever active
  if (mode === 'ids') return idsOnlySpan(carried);
  const active = context.active();
  const parent = trace.getSpan(active) && isSpanContextValid(trace.getSpanContext(active)!) ? active : remoteContext(carried);
  return tracer().startSpan(name, { kind, attributes }, parent);
}

/** Starts a span that continues only the `carried` context, whatever is active (a request from outside, an event). */
export function startRemoteChild(name: string, kind: SpanKind, carried: TraceHeaders, attributes: Attributes): Span {
  if (mode === 'ids') return idsOnlySpan(carried);
  return tracer().startSpan(name, { kind, attributes }, remoteContext(carried));
}

/** Runs `fn` with `span` active, so that logs, calls and nested spans inside see it. */
export function withSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/**
 * The headers that continue `span` in the next process. A span that records nothing and
 * has no valid context (no tracing set up) passes on what came in (`fallback`), so the
 * trace still connects across processes that trace.
 */
export function headersOf(span: Span, fallback: TraceHeaders): TraceHeaders {
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) {
    // what came in travels on only if it is valid, as a span would have continued it
    return parseTraceparent(fallback.traceparent) ? { traceparent: fallback.traceparent?.trim(), tracestate: boundTracestate(fallback.tracestate) } : {};
  }
  return {
    traceparent: formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, flags: (sc.traceFlags & FLAG_SAMPLED) | randomFlag(sc.traceId, fallback) }),
    // bounded again: a sampler may have added to it through another TraceState implementation
    tracestate: boundTracestate(sc.traceState?.serialize()),
  };
}

/**
 * The `random` flag of a span's trace: as received when it continues a trace from elsewhere
 * (the spec's rule; the SDK keeps only `sampled`), set when the trace began in this process,
 * whose ids are random in all 16 bytes.
 */
function randomFlag(traceId: string, carried: TraceHeaders): number {
  const parent = parseTraceparent(carried.traceparent);
  return parent?.traceId === traceId ? parent.flags & FLAG_RANDOM : FLAG_RANDOM;
}

/** Ends `span`, marking it failed with the error's code and message when there is one. */
export function endSpan(span: Span, error?: { code?: unknown; message?: unknown }): void {
  if (error !== undefined) {
    if (typeof error.code === 'string') span.setAttribute('carotene.error.code', error.code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof error.message === 'string' ? error.message : String(error) });
  }
  span.end();
}

/**
 * Runs `fn` in a new span (child of the active one, else of `carried`) and ends it with
 * `fn`'s outcome.
 *
 * ```ts
 * await inSpan('transaction', SpanKind.INTERNAL, meta, { 'carotene.service': 'orders' }, () => db.transaction().execute(work));
 * ```
 */
export async function inSpan<T>(name: string, kind: SpanKind, carried: TraceHeaders, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  const span = startSpan(name, kind, carried, attributes);
  try {
    const result = await withSpan(span, () => fn(span));
    endSpan(span);
    return result;
  } catch (err) {
    endSpan(span, err as { code?: unknown; message?: unknown });
    throw err;
  }
}

/** Trace and span id of `span` for a log line; none when it has no valid context. */
export function logIds(span: Span): { trace_id: string; span_id: string } | Record<string, never> {
  const sc = span.spanContext();
  return isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}

/** Trace and span id of the active span, for log lines; `undefined` when none is active. */
export function activeIds(): { trace_id: string; span_id: string } | undefined {
  const sc = trace.getSpanContext(context.active());
  return sc && isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : undefined;
}
