import { Namespace } from 'kubernetes-models/v1/Namespace';
import type { AppDef } from 'carotene/model';
import { platformError } from 'carotene/model';
import { sortedServices } from '../app-graph.ts';
import { checkDeployable } from '../deploy-checks.ts';
import type { Environment } from '../environment.ts';
import { sharedConfigMap } from './config-map.ts';
import { externalDeployment, GRPC_PORT_NAME } from './external-workload.ts';
import { gatewayDeployment, gatewayIngress } from './gateway-workload.ts';
import { jetStreamResources } from './jetstream.ts';
import { GATEWAY, GATEWAY_PORT, PART_OF_LABEL, SERVICE_PORT } from './labels.ts';
import { migrationJobs } from './migration-jobs.ts';
import { networkPolicies } from './network-policies.ts';
import type { ImageLayout } from './pod-spec.ts';
import { clusterService, scaling, serviceAccount, serviceDeployment, type WorkloadInput } from './service-workload.ts';
import { tlsResources, type CertificateResource, type IdentityPem } from './tls.ts';

/** A resource as written out: plain JSON with apiVersion, kind and metadata. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

export interface ManifestInput {
  readonly app: AppDef;
  readonly env: Environment;
  readonly layout: ImageLayout;
  /** mTLS files per identity (services and `gateway`), when certificates come from files. */
  readonly pems: Readonly<Record<string, IdentityPem>>;
}

/** The order resources are applied in: what others refer to comes first. */
const KIND_ORDER = [
  'Namespace',
  'ServiceAccount',
  'Secret',
  'Certificate',
  'ConfigMap',
  'NetworkPolicy',
  'Service',
  'Job',
  'Deployment',
  'PodDisruptionBudget',
  'HorizontalPodAutoscaler',
  'Ingress',
];

interface Model {
  validate(): void;
  toJSON(): unknown;
}

/**
 * Every Kubernetes resource of one environment, each checked against the Kubernetes
 * schema before it is returned, in apply order (then by name): deterministic for one input.
 */
export function kubernetesManifests(input: ManifestInput): Manifest[] {
  const { app, env, layout } = input;
  checkDeployable(app, env);
  const models: Array<Model | CertificateResource> = [
    new Namespace({ metadata: { name: env.namespace, labels: { [PART_OF_LABEL]: app.name } } }),
    sharedConfigMap(app, env),
    ...tlsResources(app, env, input.pems),
    ...networkPolicies(app, env),
    ...migrationJobs(app, env, layout),
    ...jetStreamResources(app, env),
  ];
  for (const s of sortedServices(app)) {
    const w: WorkloadInput = { app: app.name, name: s.name, env, layout };
    const settings = env.services[s.name]!;
    if (s.kind === 'external') {
      models.push(
        serviceAccount(w, 'service'),
        externalDeployment(w, s, app, settings),
        clusterService(w, 'service', { name: GRPC_PORT_NAME, port: SERVICE_PORT }),
      );
    } else {
      models.push(serviceAccount(w, 'service'), serviceDeployment(w, settings), clusterService(w, 'service', { name: 'rpc', port: SERVICE_PORT }));
    }
    models.push(...scaling(w, 'service', settings.replicas, settings.maxReplicas));
  }
  const gw: WorkloadInput = { app: app.name, name: GATEWAY, env, layout };
  models.push(serviceAccount(gw, 'gateway'), gatewayDeployment(app.name, env, layout), clusterService(gw, 'gateway', { name: 'http', port: GATEWAY_PORT }));
  models.push(...scaling(gw, 'gateway', env.gateway.replicas, env.gateway.maxReplicas), gatewayIngress(app.name, env));

  const manifests = models.map((m) => {
    if ('validate' in m) {
      try {
        m.validate();
      } catch (err) {
        const json = m.toJSON() as Manifest;
        throw platformError('INVALID_CONFIG', `generated ${json.kind} '${json.metadata.name}' is not valid Kubernetes: ${(err as Error).message}`, {
          cause: err,
        });
      }
      return m.toJSON() as Manifest;
    }
    checkCertificate(m);
    return m as unknown as Manifest;
  });
  return manifests.sort((a, b) => rank(a.kind) - rank(b.kind) || a.metadata.name.localeCompare(b.metadata.name));
}

function rank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i === -1 ? KIND_ORDER.length : i;
}

/** The checks the API server's cert-manager schema would make on the fields we fill. */
function checkCertificate(c: CertificateResource): void {
  const name = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;
  if (!name.test(c.metadata.name) || !name.test(c.spec.secretName) || c.spec.issuerRef.name.length === 0 || c.spec.uris.length === 0) {
    throw platformError('INVALID_CONFIG', `generated Certificate '${c.metadata.name}' is not valid: check certificates.issuer`);
  }
}
