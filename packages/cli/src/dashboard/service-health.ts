import { workloadHealth, type Health, type WorkloadReadiness } from '../build/health-status.ts';

export type { Health } from '../build/health-status.ts';

/** Requests a workload answered over a window, and how many of them failed on its side (5xx). */
export interface Traffic {
  readonly requests: number;
  readonly errors: number;
  readonly windowMs: number;
}

/** What is known of one service (or the gateway): readiness always, traffic when it exports metrics. */
export interface WorkloadSignals extends WorkloadReadiness {
  /** Absent when no instance serves metrics, or before a second scrape gave a window. */
  readonly traffic?: Traffic;
}

/** One workload's verdict and the reasons for it, as the dashboard and `carrot status` show it. */
export interface WorkloadHealthReport {
  readonly name: string;
  readonly health: Health;
  readonly ready: number;
  readonly desired: number;
  /** Share of failed requests (0..1) over the window; undefined without metrics or traffic. */
  readonly errorRate: number | undefined;
  readonly requestsPerSecond: number | undefined;
  /** Why it is not healthy, for humans: `1/2 ready (ECONNREFUSED)`, `12% errors over 30 s`. */
  readonly reasons: readonly string[];
}

export interface AppHealthReport {
  readonly health: Health;
  readonly workloads: readonly WorkloadHealthReport[];
}

/** Where error rates turn a ready workload degraded or unhealthy. */
export interface HealthThresholds {
  /** Share of failed requests from which a workload is degraded (default 0.05). */
  readonly degradedErrorRate: number;
  /** Share from which it is unhealthy (default 0.5). */
  readonly unhealthyErrorRate: number;
  /** Fewer requests than this in the window say nothing about errors (default 5). */
  readonly minRequests: number;
}

export const DEFAULT_THRESHOLDS: HealthThresholds = { degradedErrorRate: 0.05, unhealthyErrorRate: 0.5, minRequests: 5 };

const RANK: Record<Health, number> = { healthy: 0, degraded: 1, unhealthy: 2 };
const worst = (a: Health, b: Health): Health => (RANK[a] >= RANK[b] ? a : b);

/**
 * One workload's health: readiness decides first (every instance ready: healthy; some:
 * degraded; none: unhealthy), then its error rate can only make it worse (from 5 % of
 * requests failing: degraded; from 50 %: unhealthy). With readiness alone it is exactly
 * the readiness verdict.
 *
 * ```ts
 * assessWorkload({ name: 'orders', desired: 2, ready: 2, traffic: { requests: 40, errors: 8, windowMs: 30_000 } });
 * // → { health: 'degraded', reasons: ['20% errors over 30 s (8 of 40)'], ... }
 * ```
 */
export function assessWorkload(signals: WorkloadSignals, thresholds: HealthThresholds = DEFAULT_THRESHOLDS): WorkloadHealthReport {
  let health = workloadHealth(signals);
  const reasons: string[] = [];
  if (health !== 'healthy') reasons.push(`${signals.ready}/${signals.desired} ready${signals.detail ? ` (${signals.detail})` : ''}`);
  const traffic = signals.traffic;
  let errorRate: number | undefined;
  let requestsPerSecond: number | undefined;
  if (traffic && traffic.windowMs > 0) {
    requestsPerSecond = traffic.requests / (traffic.windowMs / 1_000);
    if (traffic.requests > 0) errorRate = traffic.errors / traffic.requests;
    if (errorRate !== undefined && traffic.requests >= thresholds.minRequests) {
      const byErrors: Health = errorRate >= thresholds.unhealthyErrorRate ? 'unhealthy' : errorRate >= thresholds.degradedErrorRate ? 'degraded' : 'healthy';
      if (byErrors !== 'healthy') {
        reasons.push(`${percent(errorRate)} errors over ${seconds(traffic.windowMs)} (${traffic.errors} of ${traffic.requests})`);
        health = worst(health, byErrors);
      }
    }
  }
  return { name: signals.name, health, ready: signals.ready, desired: signals.desired, errorRate, requestsPerSecond, reasons };
}

/** Every workload's verdict, and the app's: healthy when all are, unhealthy when all are, degraded between. */
export function assessApp(workloads: readonly WorkloadSignals[], thresholds: HealthThresholds = DEFAULT_THRESHOLDS): AppHealthReport {
  const reports = workloads.map((w) => assessWorkload(w, thresholds));
  const each = reports.map((r) => r.health);
  const health: Health = each.length > 0 && each.every((h) => h === 'healthy') ? 'healthy' : each.every((h) => h === 'unhealthy') ? 'unhealthy' : 'degraded';
  return { health, workloads: reports };
}

function percent(rate: number): string {
  return `${rate >= 0.1 ? Math.round(rate * 100) : (rate * 100).toFixed(1)}%`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1_000)} s`;
}
