import { platformError } from 'carotene/model';

/** An attribute value as the dashboard shows it: OTLP's typed values, flattened. */
export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };

/** One finished span, from whichever service exported it. */
export interface Span {
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /**
   * The span's `carotene.service` attribute, else `service.name` of the exporting process's
   * resource (services sharing a process export under the process's name).
   */
  readonly service: string;
  /** internal, server, client, producer, consumer or unspecified. */
  readonly kind: string;
  /** Milliseconds since the epoch, with sub-millisecond precision. */
  readonly startMs: number;
  readonly endMs: number;
  /** True when the span's status code is ERROR. */
  readonly error: boolean;
  readonly statusMessage: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly events: ReadonlyArray<{ readonly name: string; readonly timeMs: number; readonly attributes: Readonly<Record<string, AttributeValue>> }>;
}

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS_ERROR = 2;

interface OtlpKeyValue {
  key?: unknown;
  value?: unknown;
}

/**
 * The spans of one OTLP/HTTP JSON `ExportTraceServiceRequest` (what
 * `@opentelemetry/exporter-trace-otlp-http` sends to `/v1/traces`). Ids may be hex, as the
 * OTLP JSON encoding writes them, or base64 as some exporters do; timestamps strings or
 * numbers of nanoseconds. A body that is not such a request throws MALFORMED_REQUEST.
 *
 * ```ts
 * const spans = spansOfExport(JSON.parse(body));
 * ```
 */
export function spansOfExport(body: unknown): Span[] {
  const resourceSpans = (body as { resourceSpans?: unknown } | null)?.resourceSpans;
  if (!Array.isArray(resourceSpans)) throw platformError('MALFORMED_REQUEST', 'an OTLP trace export needs a resourceSpans array');
  const spans: Span[] = [];
  for (const rs of resourceSpans as Array<{ resource?: { attributes?: unknown }; scopeSpans?: unknown; instrumentationLibrarySpans?: unknown }>) {
    const resource = attributesOf(rs?.resource?.attributes);
    const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : 'unknown';
    const scopes = Array.isArray(rs?.scopeSpans) ? rs.scopeSpans : Array.isArray(rs?.instrumentationLibrarySpans) ? rs.instrumentationLibrarySpans : [];
    for (const scope of scopes as Array<{ spans?: unknown }>) {
      if (!Array.isArray(scope?.spans)) continue;
      for (const raw of scope.spans as Array<Record<string, unknown>>) spans.push(spanOf(raw, service));
    }
  }
  return spans;
}

function spanOf(raw: Record<string, unknown>, service: string): Span {
  const traceId = idOf(raw.traceId, 16);
  const spanId = idOf(raw.spanId, 8);
  if (!traceId || !spanId) throw platformError('MALFORMED_REQUEST', `span '${String(raw.name)}' has no valid traceId or spanId`);
  const status = (raw.status ?? {}) as { code?: unknown; message?: unknown };
  const startMs = nanosToMs(raw.startTimeUnixNano);
  const attributes = attributesOf(raw.attributes);
  const own = attributes['carotene.service'];
  return {
    traceId,
    spanId,
    parentSpanId: idOf(raw.parentSpanId, 8) ?? '',
    name: typeof raw.name === 'string' ? raw.name : '(unnamed)',
    service: typeof own === 'string' && own !== '' ? own : service,
    kind: kindOf(raw.kind),
    startMs,
    endMs: Math.max(startMs, nanosToMs(raw.endTimeUnixNano) || startMs),
    error: status.code === STATUS_ERROR || status.code === 'STATUS_CODE_ERROR',
    statusMessage: typeof status.message === 'string' ? status.message : '',
    attributes,
    events: (Array.isArray(raw.events) ? (raw.events as Array<Record<string, unknown>>) : []).map((e) => ({
      name: typeof e.name === 'string' ? e.name : '',
      timeMs: nanosToMs(e.timeUnixNano),
      attributes: attributesOf(e.attributes),
    })),
  };
}

/** Lower-case hex of `bytes` bytes, from hex or base64; undefined when absent or all zero. */
function idOf(value: unknown, bytes: number): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  let hex = value.toLowerCase();
  if (!new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(hex)) {
    const decoded = Buffer.from(value, 'base64');
    if (decoded.length !== bytes) return undefined;
    hex = decoded.toString('hex');
  }
  return /^0+$/.test(hex) ? undefined : hex;
}

function kindOf(kind: unknown): string {
  if (typeof kind === 'number') return KINDS[kind] ?? 'unspecified';
  // the enum's name, as some JSON encoders write it: SPAN_KIND_SERVER
  if (typeof kind === 'string') return kind.replace(/^SPAN_KIND_/, '').toLowerCase();
  return 'unspecified';
}

function nanosToMs(value: unknown): number {
  if (typeof value === 'number') return value / 1e6;
  if (typeof value === 'string' && /^\d+$/.test(value)) {
    // nanoseconds since the epoch do not fit a double exactly: split before dividing
    const n = BigInt(value);
    return Number(n / 1_000_000n) + Number(n % 1_000_000n) / 1e6;
  }
  return 0;
}

function attributesOf(list: unknown): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list as OtlpKeyValue[]) if (typeof kv?.key === 'string') out[kv.key] = attributeValue(kv.value);
  return out;
}

function attributeValue(value: unknown): AttributeValue {
  const v = (value ?? {}) as Record<string, unknown>;
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (typeof v.boolValue === 'boolean') return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (typeof v.bytesValue === 'string') return v.bytesValue;
  const array = (v.arrayValue as { values?: unknown } | undefined)?.values;
  if (Array.isArray(array)) return array.map(attributeValue);
  const kvlist = (v.kvlistValue as { values?: unknown } | undefined)?.values;
  if (Array.isArray(kvlist)) return attributesOf(kvlist);
  return null;
}
