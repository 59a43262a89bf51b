import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { Environment, ServiceSettings } from '../environment.ts';
import { configMapName, GATEWAY_PORT, labels, selector, SERVICE_PORT, type Component } from './labels.ts';
import { imageOf, podVolumes, processEnv, SECURITY_CONTEXT, tlsProbeCommand, VOLUME_MOUNTS, type ImageLayout } from './pod-spec.ts';
import { bundledCommand } from '../dockerfile.ts';

export interface WorkloadInput {
  readonly app: string;
  readonly name: string;
  readonly env: Environment;
  readonly layout: ImageLayout;
}

/** The variable holding a service's PostgreSQL URL, from the environment's database Secret (or the SQLite durability). */
export function databaseEnv(env: Environment, service: string): NonNullable<IContainer['env']> {
  if (env.database.source === 'sqlite') return env.database.synchronous ? [{ name: 'CAROTENE_SQLITE_SYNCHRONOUS', value: env.database.synchronous }] : [];
  return [{ name: 'CAROTENE_DATABASE_URL', valueFrom: { secretKeyRef: { name: env.database.secretName!, key: service } } }];
}

/** The command that applies a service's migrations (see runtime/migrate-main.ts). */
export const MIGRATE_COMMAND = bundledCommand('migrate');
const RUN_COMMAND = bundledCommand('service');

/**
 * A service's Deployment: its own image, mutual-TLS probes on /health and /ready, limits,
 * config from the shared ConfigMap and its database URL from a Secret, non-root with a
 * read-only root filesystem. With SQLite, an init container migrates the pod's own file.
 */
export function serviceDeployment(input: WorkloadInput, settings: ServiceSettings): Deployment {
  const { app, name, env, layout } = input;
  const container = (containerName: string, command: string[]): IContainer => ({
    name: containerName,
    image: imageOf(env, name),
    imagePullPolicy: 'IfNotPresent',
    command,
    env: [...processEnv(name, SERVICE_PORT, layout, true), ...databaseEnv(env, name)],
    envFrom: [{ configMapRef: { name: configMapName(app) } }],
    resources: settings.resources,
    securityContext: SECURITY_CONTEXT,
    volumeMounts: VOLUME_MOUNTS,
  });
  const main: IContainer = {
    ...container(name, RUN_COMMAND),
    ports: [{ name: 'rpc', containerPort: SERVICE_PORT, protocol: 'TCP' }],
    livenessProbe: { exec: { command: tlsProbeCommand('/health') }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
    readinessProbe: { exec: { command: tlsProbeCommand('/ready') }, initialDelaySeconds: 3, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 3 },
  };
  const initContainers = env.database.source === 'sqlite' ? [container('migrate', MIGRATE_COMMAND)] : undefined;
  return podDeployment(input, settings.replicas, 'service', {
    ...(initContainers ? { initContainers } : {}),
    containers: [main],
  });
}

/** A Deployment around `pod`, with the labels, service account and pod security every Carotene pod has. */
export function podDeployment(
  input: WorkloadInput,
  replicas: number,
  component: Component,
  pod: { containers: IContainer[]; initContainers?: IContainer[] },
  options: { scrape?: boolean } = {},
): Deployment {
  const { app, name, env } = input;
  return new Deployment({
    metadata: { name, namespace: env.namespace, labels: labels(app, name, component) },
    spec: {
      replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector(app, name) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: labels(app, name, component), ...(options.scrape === false ? {} : scrapeAnnotations(component)) },
        spec: {
          serviceAccountName: name,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          ...pod,
          volumes: podVolumes(app, name),
        },
      },
    },
  });
}

/**
 * Where Prometheus finds a pod's metrics (the `prometheus.io/*` annotations of the usual
 * scrape configuration): the gateway in plain HTTP, a service over HTTPS on its mTLS port,
 * which the scrape job reaches with a client certificate from the app's CA (docs/observability.md).
 */
function scrapeAnnotations(component: Component): { annotations?: Record<string, string> } {
  if (component === 'gateway')
    return { annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(GATEWAY_PORT), 'prometheus.io/path': '/metrics' } };
  if (component !== 'service') return {};
  return {
    annotations: {
      'prometheus.io/scrape': 'true',
      'prometheus.io/scheme': 'https',
      'prometheus.io/port': String(SERVICE_PORT),
      'prometheus.io/path': '/metrics',
    },
  };
}

export function clusterService(input: WorkloadInput, component: Component, port: { name: string; port: number }): Service {
  const { app, name, env } = input;
  return new Service({
    metadata: { name, namespace: env.namespace, labels: labels(app, name, component) },
    spec: {
      type: 'ClusterIP',
      selector: selector(app, name),
      ports: [{ name: port.name, port: port.port, targetPort: port.name, protocol: 'TCP' }],
    },
  });
}

export function serviceAccount(input: WorkloadInput, component: Component): ServiceAccount {
  const { app, name, env } = input;
  return new ServiceAccount({
    metadata: { name, namespace: env.namespace, labels: labels(app, name, component) },
    automountServiceAccountToken: false,
  });
}

/** A disruption budget and an autoscaler, for a workload with more than one replica. */
export function scaling(
  input: WorkloadInput,
  component: Component,
  replicas: number,
  maxReplicas: number,
): [PodDisruptionBudget, HorizontalPodAutoscaler] | [] {
  if (replicas <= 1) return [];
  const { app, name, env } = input;
  const meta = { name, namespace: env.namespace, labels: labels(app, name, component) };
  return [
    // at most one pod down in a drain, however far the autoscaler has scaled (a minAvailable would not follow it)
    new PodDisruptionBudget({ metadata: meta, spec: { maxUnavailable: 1, selector: { matchLabels: selector(app, name) } } }),
    new HorizontalPodAutoscaler({
      metadata: meta,
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: replicas,
        maxReplicas: Math.max(replicas, maxReplicas),
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      },
    }),
  ];
}
