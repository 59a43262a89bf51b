import type { AppDef } from 'carotene/model';
import { watchBreakers } from './breaker-metrics.ts';
import { collectProcessMetrics } from './metrics.ts';
import { OTLP_ENDPOINT_ENV, startTracing, type Tracing } from './tracing.ts';

/** Which of the app's environments this process runs in (as the event settings read it). */
const ENVIRONMENT_ENV = 'CAROTENE_ENVIRONMENT';

/**
 * The OTLP endpoint of this process: `OTEL_EXPORTER_OTLP_ENDPOINT` when set, else the
 * `telemetry.otlpEndpoint` of the app's environment; none when `OTEL_SDK_DISABLED=true`.
 */
export function otlpEndpoint(app: AppDef | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const given = env[OTLP_ENDPOINT_ENV]?.trim();
  if (given) return given;
  return app?.environments?.[(env[ENVIRONMENT_ENV] || 'development') as 'development']?.telemetry?.otlpEndpoint;
}

/**
 * The share of new traces to record: `OTEL_TRACES_SAMPLER_ARG` when `OTEL_TRACES_SAMPLER` is
 * `traceidratio` or `parentbased_traceidratio` (both follow a caller's sampled flag here);
 * every trace otherwise.
 */
export function sampleRatio(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const sampler = env.OTEL_TRACES_SAMPLER?.trim();
  if (sampler !== 'traceidratio' && sampler !== 'parentbased_traceidratio') return undefined;
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? 1);
  return Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : undefined;
}

/**
 * Everything a Carotene process observes itself with: tracing (exporting when an endpoint
 * is configured), Node's process metrics, and the circuit breakers' state.
 *
 * ```ts
 * const telemetry = startTelemetry('orders', app);
 * stopOnSignals(log, () => host.close().finally(() => telemetry.shutdown()));
 * ```
 */
export function startTelemetry(service: string, app: AppDef | undefined, env: NodeJS.ProcessEnv = process.env): Tracing {
  collectProcessMetrics();
  watchBreakers();
  return startTracing({ service, endpoint: otlpEndpoint(app, env), sampleRatio: sampleRatio(env), attributes: app ? { 'carotene.app': app.name } : {} });
}
