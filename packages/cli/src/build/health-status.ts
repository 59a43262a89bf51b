/** Health of one workload or of the whole app. */
export type Health = 'healthy' | 'degraded' | 'unhealthy';

/** What a source (local processes, Kubernetes) reports for one service or the gateway. */
export interface WorkloadReadiness {
  readonly name: string;
  /** Replicas (or local processes) that should run. */
  readonly desired: number;
  /** Those that answered ready. */
  readonly ready: number;
  /** Why some are not ready, when known (`HTTP 503`, `ECONNREFUSED`). */
  readonly detail?: string;
}

/** healthy: every replica ready; degraded: some; unhealthy: none. */
export function workloadHealth(w: WorkloadReadiness): Health {
  if (w.desired > 0 && w.ready >= w.desired) return 'healthy';
  return w.ready > 0 ? 'degraded' : 'unhealthy';
}

/** The app: healthy when every workload is, unhealthy when none has a ready replica, degraded between. */
export function appHealth(workloads: readonly WorkloadReadiness[]): Health {
  const each = workloads.map(workloadHealth);
  if (each.length > 0 && each.every((h) => h === 'healthy')) return 'healthy';
  if (each.every((h) => h === 'unhealthy')) return 'unhealthy';
  return 'degraded';
}

/** Readiness from `kubectl get deployments -o json`, for the app's workloads. */
export function readinessFromDeployments(json: unknown, names: readonly string[]): WorkloadReadiness[] {
  const items = ((json as { items?: unknown[] } | null)?.items ?? []) as Array<{
    metadata?: { name?: string };
    spec?: { replicas?: number };
    status?: { readyReplicas?: number; replicas?: number };
  }>;
  return names.map((name) => {
    const d = items.find((i) => i.metadata?.name === name);
    if (!d) return { name, desired: 1, ready: 0, detail: 'no Deployment' };
    return { name, desired: d.spec?.replicas ?? 1, ready: d.status?.readyReplicas ?? 0 };
  });
}
