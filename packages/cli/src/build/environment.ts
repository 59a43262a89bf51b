import type { AppDef } from 'carotene/model';
import { platformError } from 'carotene/model';
import {
  ENVIRONMENT_NAMES,
  parseEnvironments,
  type CertificateSource,
  type DatabaseSource,
  type EnvironmentInput,
  type EnvironmentName,
  type EventTransport,
  type GatewaySettings,
  type IngressTls,
  type Resources,
} from 'carotene/model';

/** The settings of one service in one environment, defaults applied. */
export interface ServiceSettings {
  readonly replicas: number;
  readonly maxReplicas: number;
  readonly resources: Resources;
}

/** One environment with every default filled in: what the generators read. */
export interface Environment {
  readonly name: EnvironmentName;
  readonly namespace: string;
  /** `tag` is undefined when neither `--image-tag`, the environment nor the app's package version gives one. */
  readonly image: { readonly repository: string; readonly tag: string | undefined };
  readonly services: Readonly<Record<string, ServiceSettings>>;
  readonly database: DatabaseSource & { readonly secretName?: string };
  readonly events: EventTransport;
  readonly certificates: CertificateSource;
  readonly gateway: {
    /** Public host name of the Ingress; undefined in production until the app names one. */
    readonly domain: string | undefined;
    readonly tls: ResolvedIngressTls;
    readonly ingressClass: string | undefined;
    /** What this environment sets over the app's `gateway`: the ConfigMap's `CAROTENE_GATEWAY`. */
    readonly settings: GatewaySettings;
    readonly replicas: number;
    readonly maxReplicas: number;
    readonly resources: Resources;
  };
  readonly logLevel: string;
  readonly metricsNamespace: string;
}

/** Ingress TLS with its Secret named: what the Ingress generator reads. */
export type ResolvedIngressTls =
  | { readonly source: 'none' }
  | { readonly source: 'secret'; readonly secretName: string }
  | { readonly source: 'cert-manager'; readonly issuer: string; readonly issuerKind: 'Issuer' | 'ClusterIssuer'; readonly secretName: string };

/** What `carrot build` knows beyond the app: the `--image-tag` flag and the app's package version. */
export interface BuildFacts {
  readonly imageTag?: string | undefined;
  readonly appVersion?: string | undefined;
}

const SMALL: Resources = { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } };
const MEDIUM: Resources = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } };

/** What an environment is when the app says nothing about it. */
type Defaults = Required<
  Pick<EnvironmentInput, 'namespace' | 'replicas' | 'resources' | 'database' | 'events' | 'certificates' | 'logLevel' | 'metricsNamespace'>
>;

function defaults(app: string, name: EnvironmentName): Defaults {
  switch (name) {
    case 'development':
      return {
        namespace: `${app}-development`,
        replicas: 1,
        resources: SMALL,
        database: { source: 'sqlite' },
        events: { transport: 'direct' },
        certificates: { source: 'files' },
        logLevel: 'debug',
        metricsNamespace: 'monitoring',
      };
    case 'staging':
      return {
        namespace: `${app}-staging`,
        replicas: 2,
        resources: SMALL,
        database: { source: 'secret' },
        events: { transport: 'nats', url: 'nats://nats:4222' },
        certificates: { source: 'files' },
        logLevel: 'info',
        metricsNamespace: 'monitoring',
      };
    case 'production':
      return {
        namespace: `${app}-production`,
        replicas: 3,
        resources: MEDIUM,
        database: { source: 'secret' },
        events: { transport: 'nats', url: 'nats://nats:4222', streamReplicas: 3 },
        certificates: { source: 'files' },
        logLevel: 'info',
        metricsNamespace: 'monitoring',
      };
  }
}

export function isEnvironmentName(name: string): name is EnvironmentName {
  return (ENVIRONMENT_NAMES as readonly string[]).includes(name);
}

/**
 * The app's settings for `name`: what `app({ environments })` says, over the defaults of
 * that environment (development: 1 replica, SQLite, direct events; staging: 2 replicas,
 * PostgreSQL, NATS; production: 3 replicas, PostgreSQL, NATS with 3 stream copies).
 */
export function resolveEnvironment(app: AppDef, name: EnvironmentName, facts: BuildFacts = {}): Environment {
  const given: EnvironmentInput = parseEnvironments(app.environments, `app '${app.name}'`)[name] ?? {};
  const base = defaults(app.name, name);
  const replicas = given.replicas ?? base.replicas;
  const resources = given.resources ?? base.resources;
  const services: Record<string, ServiceSettings> = {};
  for (const s of app.services) {
    const own = given.services?.[s.name] ?? {};
    // an external service's deploy settings come between the environment's own for it and its defaults
    const declared: { replicas?: number | undefined; resources?: Resources | undefined } = s.kind === 'external' ? s.deploy : {};
    const r = own.replicas ?? declared.replicas ?? replicas;
    services[s.name] = { replicas: r, maxReplicas: Math.max(r, own.maxReplicas ?? r * 2), resources: own.resources ?? declared.resources ?? resources };
  }
  const database = given.database ?? base.database;
  if (database.source === 'sqlite') {
    // each pod would have a database of its own: writes on one replica are invisible to the others
    const external = new Set(app.services.filter((s) => s.kind === 'external').map((s) => s.name));
    const many = Object.entries(services).find(([service, settings]) => settings.replicas > 1 && !external.has(service));
    if (many) {
      throw platformError(
        'INVALID_CONFIG',
        `environments.${name}: service '${many[0]}' has ${many[1].replicas} replicas on SQLite; use one replica or database: { source: 'secret' } (PostgreSQL)`,
      );
    }
  }
  const { domain, tls, ingressClass, replicas: gwReplicas, maxReplicas: gwMax, resources: gwResources, ...settings } = given.gateway ?? {};
  const gatewayReplicas = gwReplicas ?? replicas;
  return {
    name,
    namespace: given.namespace ?? base.namespace,
    // the flag wins: one build, one tag; then the environment's own, then the app's version
    image: { repository: given.image?.repository ?? app.name, tag: facts.imageTag ?? given.image?.tag ?? facts.appVersion },
    services,
    database: database.source === 'secret' ? { ...database, secretName: database.secretName ?? `${app.name}-databases` } : database,
    events: given.events ?? base.events,
    certificates: given.certificates ?? base.certificates,
    gateway: {
      domain: domain ?? (name === 'production' ? undefined : `${app.name}.localhost`),
      tls: ingressTls(tls ?? (name === 'development' ? { source: 'none' } : { source: 'secret' }), app.name),
      ingressClass,
      settings,
      replicas: gatewayReplicas,
      maxReplicas: Math.max(gatewayReplicas, gwMax ?? gatewayReplicas * 2),
      resources: gwResources ?? resources,
    },
    logLevel: given.logLevel ?? base.logLevel,
    metricsNamespace: given.metricsNamespace ?? base.metricsNamespace,
  };
}

function ingressTls(tls: IngressTls, app: string): ResolvedIngressTls {
  const secretName = `${app}-gateway-tls`;
  switch (tls.source) {
    case 'none':
      return tls;
    case 'secret':
      return { source: 'secret', secretName: tls.secretName ?? secretName };
    case 'cert-manager':
      return { source: 'cert-manager', issuer: tls.issuer, issuerKind: tls.issuerKind ?? 'Issuer', secretName: tls.secretName ?? secretName };
  }
}
