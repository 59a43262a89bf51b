import { readRegistry } from '@carotene/runtime/service';
import type { TlsFiles } from '@carotene/runtime/security';
import { instanceUrls, protocolOf, type ServiceAddress } from '@carotene/runtime/transport';
import { describeHealth, grpcHealthCheck } from './grpc-health.ts';
import { describeAnswer, instanceGet } from './instance-get.ts';
import { parsePrometheus, requestTotals, type RequestTotals } from './request-metrics.ts';
import type { Traffic, WorkloadSignals } from './service-health.ts';

/** What one instance answered on the last look. */
export interface InstanceState {
  readonly url: string;
  readonly ready: boolean;
  /** `HTTP 503`, `ECONNREFUSED` when not ready. */
  readonly detail?: string;
  /** True when it serves request counters on `/metrics`. */
  readonly metrics: boolean;
}

/** A workload's signals plus what each of its instances said. */
export interface WorkloadSample extends WorkloadSignals {
  readonly instances: readonly InstanceState[];
}

export interface HealthCollectorOptions {
  /** Services to look at, in order; the gateway is added last. */
  readonly services: readonly string[];
  /** The registry `carrot dev` writes (read on every look: instances come and go). */
  readonly registryFile: string;
  /** Identity presented to the services' mutual-TLS listeners (the supervisor's). */
  readonly tls: TlsFiles;
  /** Error rates are computed over this much history (default 30 000 ms). */
  readonly windowMs?: number;
  /** Per request (default 1 000 ms). */
  readonly timeoutMs?: number;
}

interface Point extends RequestTotals {
  readonly at: number;
}

/** Name of the gateway's workload in every health report. */
export const GATEWAY_WORKLOAD = 'gateway';

/**
 * Looks at every instance of every service and the gateway, through the registry: `GET
 * /ready` for readiness (`grpc.health.v1.Health/Check` for a service registered with
 * protocol `grpc`, an external one) and `GET /metrics` for request counters, remembering the counters
 * of earlier looks so that each look yields the error rate over the last window. Without
 * metrics (or on the first look) a workload has readiness only; `assessApp` decides the
 * same way for both.
 *
 * ```ts
 * const collector = new HealthCollector({ services: ['users', 'orders'], registryFile, tls });
 * const report = assessApp(await collector.sample());
 * ```
 */
export class HealthCollector {
  readonly #o: HealthCollectorOptions;
  readonly #windowMs: number;
  readonly #history = new Map<string, Point[]>();

  constructor(options: HealthCollectorOptions) {
    this.#o = options;
    this.#windowMs = options.windowMs ?? 30_000;
  }

  async sample(): Promise<WorkloadSample[]> {
    let services: Readonly<Record<string, ServiceAddress | undefined>> = {};
    let gateway: string | undefined;
    let missing: string | undefined;
    try {
      const registry = await readRegistry(this.#o.registryFile);
      services = registry.services;
      gateway = registry.gateway?.url;
    } catch {
      missing = `no registry at ${this.#o.registryFile}`;
    }
    const targets = [
      ...this.#o.services.map((name) => ({
        name,
        urls: services[name] ? instanceUrls(services[name]) : [],
        grpc: services[name] !== undefined && protocolOf(services[name]) === 'grpc',
      })),
      { name: GATEWAY_WORKLOAD, urls: gateway ? [gateway] : [], grpc: false },
    ];
    const now = Date.now();
    return Promise.all(targets.map(({ name, urls, grpc }) => this.#sampleWorkload(name, urls, now, missing ?? 'not in the registry', grpc)));
  }

  async #sampleWorkload(name: string, urls: readonly string[], now: number, absent: string, grpc: boolean): Promise<WorkloadSample> {
    if (urls.length === 0) return { name, desired: 1, ready: 0, detail: absent, instances: [] };
    const timeout = this.#o.timeoutMs ?? 1_000;
    const instances = await Promise.all(
      urls.map(async (url): Promise<InstanceState & { totals?: RequestTotals }> => {
        if (grpc) {
          // an external service: the gRPC health checking protocol, and no Carotene metrics
          const health = await grpcHealthCheck(url, this.#o.tls, timeout);
          const ok = 'status' in health && health.status === 'SERVING';
          return { url, ready: ok, ...(ok ? {} : { detail: describeHealth(health) }), metrics: false };
        }
        const [ready, metrics] = await Promise.all([instanceGet(`${url}/ready`, this.#o.tls, timeout), instanceGet(`${url}/metrics`, this.#o.tls, timeout)]);
        const totals = 'status' in metrics && metrics.status === 200 ? totalsOf(metrics.body, name) : undefined;
        const ok = 'status' in ready && ready.status === 200;
        return { url, ready: ok, ...(ok ? {} : { detail: describeAnswer(ready) }), metrics: totals !== undefined, ...(totals ? { totals } : {}) };
      }),
    );
    let traffic: Traffic | undefined;
    for (const instance of instances) {
      if (!instance.totals) continue;
      const window = this.#remember(instance.url, { at: now, ...instance.totals });
      if (!window) continue;
      traffic = {
        requests: (traffic?.requests ?? 0) + window.requests,
        errors: (traffic?.errors ?? 0) + window.errors,
        windowMs: Math.max(traffic?.windowMs ?? 0, window.windowMs),
      };
    }
    const ready = instances.filter((i) => i.ready).length;
    const details = [...new Set(instances.filter((i) => !i.ready).map((i) => i.detail))].join(', ');
    return {
      name,
      desired: urls.length,
      ready,
      ...(details ? { detail: details } : {}),
      ...(traffic ? { traffic } : {}),
      instances: instances.map(({ totals: _totals, ...state }) => state),
    };
  }

  /** Adds a point to an instance's history; the change over the window, once there are two points. */
  #remember(url: string, point: Point): Traffic | undefined {
    const points = (this.#history.get(url) ?? []).filter((p) => point.at - p.at <= this.#windowMs);
    points.push(point);
    this.#history.set(url, points);
    const first = points[0]!;
    if (points.length < 2) return undefined;
    // a restarted instance starts counting from zero again: its whole count is new
    const reset = point.requests < first.requests || point.errors < first.errors;
    return {
      requests: reset ? point.requests : point.requests - first.requests,
      errors: reset ? point.errors : point.errors - first.errors,
      windowMs: point.at - first.at,
    };
  }
}

/**
 * A process's request totals. A request counter that is declared (`# TYPE …_requests_total
 * counter`) but has no samples yet counts zero: its first requests then fall inside the
 * next window instead of before the first look.
 */
function totalsOf(page: string, service: string): RequestTotals | undefined {
  return requestTotals(parsePrometheus(page), service) ?? (/^# TYPE \S+_requests_total counter$/m.test(page) ? { requests: 0, errors: 0 } : undefined);
}
