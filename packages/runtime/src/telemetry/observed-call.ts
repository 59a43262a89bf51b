import { isCaroteneError } from 'carotene/model';
import { integrationCalls, integrationDuration } from './metrics.ts';
import { endSpan, headersOf, SpanKind, startSpan, withSpan } from './spans.ts';
import type { TraceHeaders } from './trace-context.ts';

/**
 * Wraps one integration call in a client span and its metrics. `run` receives the trace
 * headers to send (the client span's, so the callee's server span is its child).
 *
 * ```ts
 * await observedCall('orders', 'catalog', 'reserveStock', meta, (trace) => transport.call('catalog', 'reserveStock', input, { ...meta, ...trace }));
 * ```
 */
export async function observedCall<T>(caller: string, target: string, fn: string, carried: TraceHeaders, run: (trace: TraceHeaders) => Promise<T>): Promise<T> {
  const started = performance.now();
  const span = startSpan(`${target}.${fn}`, SpanKind.CLIENT, carried, {
    'carotene.service': caller,
    'rpc.system': 'carotene',
    'rpc.service': target,
    'rpc.method': fn,
  });
  let status = 200;
  let code = 'OK';
  try {
    return await withSpan(span, () => run(headersOf(span, carried)));
  } catch (err) {
    status = isCaroteneError(err) ? err.status : 500;
    code = isCaroteneError(err) ? err.code : 'INTERNAL';
    endSpan(span, err as { code?: unknown; message?: unknown });
    throw err;
  } finally {
    if (code === 'OK') endSpan(span);
    integrationCalls.inc({ service: caller, target, function: fn, status: String(status), code });
    integrationDuration.observe({ service: caller, target, function: fn }, (performance.now() - started) / 1000);
  }
}
