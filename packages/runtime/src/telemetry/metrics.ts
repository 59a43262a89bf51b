import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric of this process, in one registry: what `GET /metrics` answers in the
 * Prometheus text format. Processes running several services label each sample with its
 * `service`.
 */
export const metricsRegistry = new Registry();

/** Seconds: from a local call (~0.2 ms) to the longest deadline a gateway grants by default. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Calls a service answered, by handler, status and code (`OK` or the error's code). */
export const handlerRequests = new Counter({
  name: 'carotene_handler_requests_total',
  help: 'Calls answered by a handler, by HTTP status and result code',
  labelNames: ['service', 'handler', 'status', 'code'] as const,
  registers: [metricsRegistry],
});

export const handlerDuration = new Histogram({
  name: 'carotene_handler_duration_seconds',
  help: 'Time a handler took, from arrival of its input to its answer',
  labelNames: ['service', 'handler'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [metricsRegistry],
});

/** Calls a service made to another (its integrations), by target function and outcome. */
export const integrationCalls = new Counter({
  name: 'carotene_integration_calls_total',
  help: 'Integration calls made to other services, by HTTP status and result code',
  labelNames: ['service', 'target', 'function', 'status', 'code'] as const,
  registers: [metricsRegistry],
});

export const integrationDuration = new Histogram({
  name: 'carotene_integration_call_duration_seconds',
  help: 'Time an integration call took as its caller saw it',
  labelNames: ['service', 'target', 'function'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [metricsRegistry],
});

/** Requests a service made to outside HTTP APIs (`http(...)` integrations), by method and outcome. */
export const httpClientRequests = new Counter({
  name: 'carotene_http_client_requests_total',
  help: 'Requests made to outside HTTP APIs, by integration, method, HTTP status and result code',
  labelNames: ['service', 'integration', 'method', 'status', 'code'] as const,
  registers: [metricsRegistry],
});

export const httpClientDuration = new Histogram({
  name: 'carotene_http_client_request_duration_seconds',
  help: 'Time a request to an outside HTTP API took as its caller saw it, retries included',
  labelNames: ['service', 'integration', 'method'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [metricsRegistry],
});

export const gatewayRequests = new Counter({
  name: 'carotene_gateway_requests_total',
  help: 'Public requests answered by the gateway, by route and HTTP status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [metricsRegistry],
});

export const gatewayDuration = new Histogram({
  name: 'carotene_gateway_request_duration_seconds',
  help: 'Time the gateway took to answer a public request',
  labelNames: ['method', 'route'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [metricsRegistry],
});

export const eventsHandled = new Counter({
  name: 'carotene_events_handled_total',
  help: 'Events a subscriber ran, by type and outcome (ok or error; errors are retried)',
  labelNames: ['service', 'type', 'outcome'] as const,
  registers: [metricsRegistry],
});

/**
 * A value read when metrics are scraped (a database count, a pool size): each source adds
 * its labelled samples; sources come and go with the services of the process.
 */
export type GaugeSource<L extends string> = () => Promise<ReadonlyArray<{ labels: Partial<Record<L, string>>; value: number }>>;

/**
 * A gauge whose samples come from sources read at scrape time.
 *
 * ```ts
 * const backlog = scrapedGauge('carotene_outbox_backlog', 'Undelivered events', ['service', 'destination']);
 * const stop = backlog.add(async () => [{ labels: { service: 'orders', destination: 'notifications' }, value: 3 }]);
 * ```
 */
export function scrapedGauge<L extends string>(name: string, help: string, labelNames: readonly L[]) {
  const sources = new Set<GaugeSource<L>>();
  new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [metricsRegistry],
    async collect() {
      this.reset();
      const read = await Promise.all([...sources].map((source) => source().catch(() => [])));
      for (const { labels, value } of read.flat()) this.set(labels, value);
    },
  });
  return {
    /** Adds a source; returns its removal. */
    add(source: GaugeSource<L>): () => void {
      sources.add(source);
      return () => sources.delete(source);
    },
  };
}

// first: read before the other gauges' queries take connections from the pool
export const poolConnections = scrapedGauge('carotene_db_pool_connections', 'Database pool connections, by state (total, idle, waiting)', ['service', 'state']);
export const outboxBacklog = scrapedGauge('carotene_outbox_backlog', 'Events in the outbox not yet delivered, by destination', ['service', 'destination']);
export const outboxOldestAge = scrapedGauge('carotene_outbox_oldest_age_seconds', 'Age of the oldest undelivered event in the outbox (0 when none)', [
  'service',
]);
export const deadLetters = scrapedGauge('carotene_dead_letters', 'Events that exhausted their retries and wait for a replay', ['service']);
export const breakerState = scrapedGauge('carotene_breaker_state', 'Circuit breaker per integration: 0 closed, 1 half-open, 2 open', ['service', 'target']);
export const sagaInstances = scrapedGauge('carotene_saga_instances', 'Saga instances by saga and status', ['service', 'saga', 'status']);

let processMetrics = false;

/** Adds Node's process metrics (CPU, memory, event-loop delay, GC) once per process. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: metricsRegistry });
}

/** The Prometheus text format content type. */
export const METRICS_CONTENT_TYPE = metricsRegistry.contentType;

/** Everything, in the Prometheus text format. */
export function renderMetrics(): Promise<string> {
  return metricsRegistry.metrics();
}
