import { isCaroteneError } from 'carotene/model';
import { httpClientDuration, httpClientRequests } from './metrics.ts';
import { endSpan, headersOf, SpanKind, startSpan, withSpan } from './spans.ts';
import type { TraceHeaders } from './trace-context.ts';

/** What one request to an outside API is, for its span and metrics. */
export interface ObservedRequest {
  readonly service: string;
  readonly integration: string;
  readonly method: string;
  readonly url: URL;
}

/**
 * Wraps one request to an outside HTTP API (its retries included) in a client span, with
 * OpenTelemetry's HTTP attributes, and its metrics. `run` receives the trace headers to send,
 * the client span's, and returns the answer's status.
 *
 * ```ts
 * await observedHttp({ service: 'payments', integration: 'cardProvider', method: 'POST', url }, meta, (trace) => send(trace));
 * ```
 */
export async function observedHttp<T extends { readonly status: number }>(
  o: ObservedRequest,
  carried: TraceHeaders,
  run: (trace: TraceHeaders) => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const span = startSpan(`${o.method} ${o.integration}`, SpanKind.CLIENT, carried, {
    'carotene.service': o.service,
    'carotene.integration': o.integration,
    'http.request.method': o.method,
    'server.address': o.url.hostname,
    'server.port': Number(o.url.port) || (o.url.protocol === 'https:' ? 443 : 80),
    // no query string: it may carry what a trace store should not keep
    'url.full': `${o.url.origin}${o.url.pathname}`,
  });
  let status = 0;
  let code = 'OK';
  try {
    const res = await withSpan(span, () => run(headersOf(span, carried)));
    status = res.status;
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) code = 'HTTP_5XX';
    else if (status >= 400) code = 'HTTP_4XX';
    endSpan(span, status >= 500 ? { code, message: `HTTP ${status}` } : undefined);
    return res;
  } catch (err) {
    code = isCaroteneError(err) ? err.code : 'INTERNAL';
    endSpan(span, err as { code?: unknown; message?: unknown });
    throw err;
  } finally {
    const labels = { service: o.service, integration: o.integration, method: o.method };
    httpClientRequests.inc({ ...labels, status: status === 0 ? 'none' : String(status), code });
    httpClientDuration.observe(labels, (performance.now() - started) / 1000);
  }
}
