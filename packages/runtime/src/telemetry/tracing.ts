import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-base';
import { setTracingMode } from './spans.ts';

/** The standard variable naming the OTLP/HTTP collector; traces go to `<it>/v1/traces`. */
export const OTLP_ENDPOINT_ENV = 'OTEL_EXPORTER_OTLP_ENDPOINT';

export interface TracingOptions {
  /** `service.name` of this process's spans (a service, a group, or `gateway`). */
  readonly service: string;
  /** OTLP/HTTP base URL; no exporter (and no recording) when absent. */
  readonly endpoint?: string | undefined;
  /** Share of new traces recorded when exporting, 0 to 1 (default 1); a caller's sampled flag is followed. */
  readonly sampleRatio?: number | undefined;
  /** Extra resource attributes, e.g. `{ 'carotene.app': 'shop' }`. */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** Tracing of one process, started. */
export interface Tracing {
  /** True when spans are recorded and exported. */
  readonly exporting: boolean;
  /** Exports what is buffered, stops, and unregisters the globals (so tracing may start again). */
  shutdown(): Promise<void>;
}

/**
 * Sets up tracing for this process. With an endpoint: OpenTelemetry's SDK, an
 * AsyncLocalStorage context manager (so the active span follows async code), W3C trace
 * context, and spans recorded (following the caller's sampled flag) and exported over
 * OTLP/HTTP JSON in batches. Without one, nothing is recorded or exported, and neither the SDK
 * nor a context manager runs: spans only carry ids, made and handed on explicitly, so trace
 * ids still reach the call log lines and the next process at almost no cost.
 *
 * ```ts
 * const tracing = startTracing({ service: 'orders', endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT });
 * process.on('SIGTERM', () => void tracing.shutdown());
 * ```
 */
export function startTracing(options: TracingOptions): Tracing {
  const endpoint = options.endpoint?.trim().replace(/\/+$/, '');
  if (!endpoint) {
    // nothing recorded: no SDK at all, spans are ids made by spans.ts and handed on explicitly
    setTracingMode('ids');
    return { exporting: false, shutdown: async () => setTracingMode('none') };
  }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.service, ...options.attributes }),
    sampler: new ParentBasedSampler({ root: rootSampler(options.sampleRatio) }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }), {
        scheduledDelayMillis: 500,
        maxQueueSize: 8192,
        maxExportBatchSize: 512,
      }),
    ],
  });
  // Following the active span through async code costs a promise hook on every promise
  // (AsyncLocalStorage on Node 20): only worth it when spans are recorded. Without it the
  // runtime still hands each span's context on explicitly (calls, transactions, events).
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  setTracingMode('exporting');
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  let stopped: Promise<void> | undefined;
  return {
    exporting: true,
    shutdown() {
      stopped ??= provider
        .shutdown()
        .catch(() => undefined)
        .then(() => {
          setTracingMode('none');
          trace.disable();
          propagation.disable();
          context.disable();
        });
      return stopped;
    },
  };
}

function rootSampler(ratio: number | undefined): Sampler {
  return ratio === undefined || ratio >= 1 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(Math.max(0, ratio));
}
