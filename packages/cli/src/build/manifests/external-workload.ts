import type { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { AppDef, ExternalDef } from 'carotene/model';
import { declaredCallers, externalEventEnv, externalPeers } from '../app-graph.ts';
import type { Environment, ServiceSettings } from '../environment.ts';
import { configMapName, SERVICE_PORT, TLS_DIR } from './labels.ts';
import { SECURITY_CONTEXT, VOLUME_MOUNTS } from './pod-spec.ts';
import { podDeployment, type WorkloadInput } from './service-workload.ts';

/** Name of an external service's port, in its container and its Service. */
export const GRPC_PORT_NAME = 'grpc';

/** Where an external service's image keeps the .proto files of its contract (`CAROTENE_PROTO_DIR`). */
export const IMAGE_PROTO_DIR = '/app/proto';

/**
 * The variables an external service's container gets: the same as under `carrot dev`
 * (docs/grpc.md), with the cluster's addresses. The shared ones (`CAROTENE_LOG_LEVEL`…)
 * come from the ConfigMap.
 */
export function externalEnv(app: AppDef, def: ExternalDef, env: Environment): NonNullable<IContainer['env']> {
  const vars = [
    { name: 'CAROTENE_ALLOWED_CALLERS', value: declaredCallers(app, def).join(',') },
    { name: 'CAROTENE_APP', value: app.name },
    { name: 'CAROTENE_DATA_DIR', value: '/data' },
    { name: 'CAROTENE_HOST', value: '0.0.0.0' },
    { name: 'CAROTENE_PORT', value: String(SERVICE_PORT) },
    { name: 'CAROTENE_PROTO_DIR', value: IMAGE_PROTO_DIR },
    { name: 'CAROTENE_REGISTRY', value: '/etc/carotene/registry.json' },
    { name: 'CAROTENE_SERVICE', value: def.name },
    { name: 'CAROTENE_TLS_CA', value: `${TLS_DIR}/ca.crt` },
    { name: 'CAROTENE_TLS_CERT', value: `${TLS_DIR}/tls.crt` },
    { name: 'CAROTENE_TLS_KEY', value: `${TLS_DIR}/tls.key` },
  ];
  for (const [name, value] of Object.entries(externalEventEnv(app, def))) vars.push({ name, value });
  for (const name of externalPeers(app, def)) {
    const peer = app.services.find((s) => s.name === name);
    const key = name.toUpperCase().replace(/-/g, '_');
    vars.push({ name: `CAROTENE_PEER_${key}_URL`, value: `https://${name}.${env.namespace}.svc:${SERVICE_PORT}` });
    vars.push({ name: `CAROTENE_PEER_${key}_PROTOCOL`, value: peer?.kind === 'external' ? 'grpc' : 'carotene' });
  }
  return vars.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The probe command of an external service: `grpc_health_probe` (which its image must
 * have on its PATH) asks the pod's own listener `grpc.health.v1.Health/Check` over mutual
 * TLS with the pod's certificate: the kubelet's own gRPC probe speaks no TLS. The server
 * is known by port, as the probes of Carotene services are.
 */
export function grpcProbeCommand(): string[] {
  return [
    'grpc_health_probe',
    `-addr=127.0.0.1:${SERVICE_PORT}`,
    '-tls',
    '-tls-no-verify',
    `-tls-client-cert=${TLS_DIR}/tls.crt`,
    `-tls-client-key=${TLS_DIR}/tls.key`,
    '-connect-timeout=2s',
    '-rpc-timeout=2s',
  ];
}

/**
 * An external service's Deployment: its own image (`deploy.image`), its certificate Secret
 * and the shared config mounted as for every pod, the same hardening, and gRPC health probes.
 */
export function externalDeployment(input: WorkloadInput, def: ExternalDef, appDef: AppDef, settings: ServiceSettings): Deployment {
  const probe = { exec: { command: grpcProbeCommand() }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 };
  const main: IContainer = {
    name: def.name,
    image: def.deploy.image,
    imagePullPolicy: 'IfNotPresent',
    env: externalEnv(appDef, def, input.env),
    envFrom: [{ configMapRef: { name: configMapName(appDef.name) } }],
    ports: [{ name: GRPC_PORT_NAME, containerPort: SERVICE_PORT, protocol: 'TCP' }],
    livenessProbe: { ...probe, initialDelaySeconds: 10 },
    readinessProbe: { ...probe, initialDelaySeconds: 3, periodSeconds: 5 },
    resources: settings.resources,
    securityContext: SECURITY_CONTEXT,
    volumeMounts: VOLUME_MOUNTS,
  };
  // it serves no Carotene /metrics: nothing to scrape
  return podDeployment(input, settings.replicas, 'service', { containers: [main] }, { scrape: false });
}
