import { parseTraceparent, type TraceHeaders } from './trace-context.ts';
import { activeSpanFollowsAsyncCode } from './spans.ts';

/** A logger that may bind fields to every line it writes (pino's `child`). */
interface ChildLog {
  child?(bindings: object): unknown;
}

/**
 * The logger a handler writes with, naming the trace and span of `carried` on every line.
 * When spans are exported the logger's mixin names the active span already, so `log` is
 * returned as it is (no field twice); without a collector no span is tracked through async
 * code, so the ids are bound here.
 *
 * ```ts
 * const log = logWithTrace(binding.log, meta); // log.info({}, 'x') -> {"trace_id":"…","span_id":"…",…}
 * ```
 */
export function logWithTrace<L extends object>(log: L, carried: TraceHeaders): L {
  if (activeSpanFollowsAsyncCode()) return log;
  const parent = parseTraceparent(carried.traceparent);
  const child = (log as ChildLog).child;
  if (!parent || typeof child !== 'function') return log;
  return child.call(log, { trace_id: parent.traceId, span_id: parent.spanId }) as L;
}
