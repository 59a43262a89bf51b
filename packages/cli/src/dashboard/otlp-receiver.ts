import type { IncomingMessage } from 'node:http';
import { platformError } from 'carotene/model';
import { spansOfExport } from './otlp-spans.ts';
import { readBody } from './request-body.ts';
import type { TraceStore } from './trace-store.ts';

/** Largest export accepted (the OTLP exporter batches at most 512 spans by default). */
const MAX_EXPORT_BYTES = 8 * 1024 * 1024;

/**
 * Handles one `POST /v1/traces` of OTLP/HTTP: reads the JSON `ExportTraceServiceRequest`
 * (optionally gzipped) and stores its spans. Protobuf is refused with UNSUPPORTED_MEDIA_TYPE
 * (415) and a message that says how to switch the exporter to JSON. Resolves with the
 * number of spans stored.
 *
 * ```ts
 * if (req.method === 'POST' && req.url === '/v1/traces') await receiveTraces(req, store);
 * ```
 */
export async function receiveTraces(req: IncomingMessage, store: TraceStore): Promise<number> {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') {
    req.resume();
    throw platformError(
      'UNSUPPORTED_MEDIA_TYPE',
      'this endpoint reads OTLP/HTTP JSON, not protobuf: use @opentelemetry/exporter-trace-otlp-http, or set OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json',
    );
  }
  if (type !== 'application/json') {
    req.resume();
    throw platformError('UNSUPPORTED_MEDIA_TYPE', `an OTLP trace export must be application/json, got '${type || 'no content-type'}'`);
  }
  const body = await readBody(req, MAX_EXPORT_BYTES);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw platformError('MALFORMED_REQUEST', `the OTLP export is not JSON: ${(err as Error).message}`);
  }
  const spans = spansOfExport(json);
  store.add(spans);
  return spans.length;
}
