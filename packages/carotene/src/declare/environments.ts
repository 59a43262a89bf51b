import { z } from 'zod';
import { gatewaySettingsSchema } from './gateway-settings.ts';
import { faultSchema, resilienceSchema } from './resilience-settings.ts';

/** The environments `carrot build` generates a deployment for. */
export const ENVIRONMENT_NAMES = ['development', 'staging', 'production'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

const QUANTITY = /^\d+(\.\d+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/;
const quantity = z.string().regex(QUANTITY, 'must be a Kubernetes quantity such as 250m, 1, 256Mi or 1Gi');
const cpuMemory = z.strictObject({ cpu: quantity, memory: quantity });
/** Requests and limits of a pod's container. */
export const resourcesSchema = z.strictObject({ requests: cpuMemory, limits: cpuMemory });
const resources = resourcesSchema;
/** Pods of one workload. */
export const replicasSchema = z.number().int().min(1).max(100);
const replicas = replicasSchema;

const serviceSettings = z.strictObject({
  /** Pods of this service; more than one also gets an autoscaler and a disruption budget. */
  replicas: replicas.optional(),
  /** Upper bound of the autoscaler (default: twice `replicas`). */
  maxReplicas: replicas.optional(),
  resources: resources.optional(),
});

/**
 * Where each service's database URL comes from. `sqlite`: a file on the pod's own volume
 * (one replica, data lost with the pod: for trying things out). `secret`: a Kubernetes
 * Secret you create, with one key per service holding its PostgreSQL URL.
 */
const database = z.discriminatedUnion('source', [
  z.strictObject({
    source: z.literal('sqlite'),
    /** When a commit reaches the disk: `normal` (default) or `full`, synced every commit (docs/stores.md). */
    synchronous: z.enum(['normal', 'full']).optional(),
  }),
  z.strictObject({
    source: z.literal('secret'),
    secretName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{0,252}$/)
      .optional(),
  }),
]);

/**
 * How events travel between services. `direct`: over the internal transport (no broker).
 * `nats`: through NATS JetStream at `url`; `carrot build` writes the stream definitions.
 */
const eventTransport = z.discriminatedUnion('transport', [
  z.strictObject({ transport: z.literal('direct') }),
  z.strictObject({
    transport: z.literal('nats'),
    url: z.string().regex(/^nats:\/\/\S+$/, "must look like 'nats://host:4222'"),
    /** Copies of each stream kept by the JetStream cluster (default 1; 3 for a 3-node cluster). */
    streamReplicas: z.number().int().min(1).max(5).optional(),
    /** Hours an event stays in its stream (default 168, one week). */
    maxAgeHours: z.number().int().min(1).optional(),
  }),
]);

/** Where each service's mTLS certificate comes from. */
const certificates = z.discriminatedUnion('source', [
  /** The files `carrot` created under `<dataDir>/certs/`, written into Secrets at build time. */
  z.strictObject({ source: z.literal('files'), dir: z.string().optional() }),
  /** cert-manager issues them: `carrot build` writes Certificate resources for `issuer`. */
  z.strictObject({ source: z.literal('cert-manager'), issuer: z.string().min(1), issuerKind: z.enum(['Issuer', 'ClusterIssuer']).optional() }),
]);

/**
 * TLS at the Ingress. `secret`: a `kubernetes.io/tls` Secret you create (default
 * `<app>-gateway-tls`). `cert-manager`: a Certificate for the domain from `issuer`, into that
 * Secret. `none`: plain HTTP at the Ingress (TLS ends before it, or nowhere).
 */
const ingressTls = z.discriminatedUnion('source', [
  z.strictObject({
    source: z.literal('secret'),
    secretName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{0,252}$/)
      .optional(),
  }),
  z.strictObject({
    source: z.literal('cert-manager'),
    issuer: z.string().min(1),
    issuerKind: z.enum(['Issuer', 'ClusterIssuer']).optional(),
    secretName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{0,252}$/)
      .optional(),
  }),
  z.strictObject({ source: z.literal('none') }),
]);

/** The gateway's deployment, and the settings of {@link gatewaySettingsSchema} for this environment. */
const gateway = gatewaySettingsSchema.extend({
  /** Public host name of the Ingress, e.g. `api.shop.example` (required in production). */
  domain: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'must be a lower-case host name')
    .optional(),
  /** TLS at the Ingress (default: none in development, Secret `<app>-gateway-tls` otherwise). */
  tls: ingressTls.optional(),
  /** The IngressClass whose controller serves the Ingress, e.g. `nginx` (required in production). */
  ingressClass: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'must be the name of an IngressClass')
    .optional(),
  replicas: replicas.optional(),
  /** Upper bound of the gateway's autoscaler (default: twice `replicas`). */
  maxReplicas: replicas.optional(),
  resources: resources.optional(),
});

/** One environment's settings; every field is optional and has a per-environment default. */
export const environmentSchema = z.strictObject({
  /** Kubernetes namespace (default `<app>-<environment>`). */
  namespace: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a DNS label')
    .optional(),
  /** Container image of the app: `<repository>/<service>:<tag>`. */
  image: z
    .strictObject({
      repository: z.string().min(1).optional(),
      /** Default: `carrot build --image-tag`, else the app's package version; `latest` is refused. */
      tag: z
        .string()
        .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be a container image tag such as 1.4.0')
        .optional(),
    })
    .optional(),
  /** Default replicas of every service. */
  replicas: replicas.optional(),
  /** Default resources of every service. */
  resources: resources.optional(),
  /** Per-service overrides, by service name. */
  services: z.record(z.string(), serviceSettings).optional(),
  database: database.optional(),
  /** Event transport of this environment. */
  events: eventTransport.optional(),
  certificates: certificates.optional(),
  gateway: gateway.optional(),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).optional(),
  /** Namespace of the metrics scraper admitted by every NetworkPolicy (default `monitoring`). */
  metricsNamespace: z.string().optional(),
  /**
   * `carrot dev` (development) runs every service in one process, with in-process calls
   * between them; each keeps its own database and permissions. See docs/monolith.md.
   */
  monolith: z.boolean().optional(),
  /**
   * Services to co-locate, by process: `{ core: ['users', 'catalog'] }`. Services in no
   * group keep a process of their own. See docs/monolith.md.
   */
  groups: z.record(z.string(), z.array(z.string()).min(1)).optional(),
  /**
   * Where traces go: an OTLP/HTTP collector's base URL (spans are POSTed as JSON to
   * `<otlpEndpoint>/v1/traces`). `OTEL_EXPORTER_OTLP_ENDPOINT` overrides it. See docs/observability.md.
   */
  telemetry: z
    .strictObject({
      otlpEndpoint: z
        .string()
        .regex(/^https?:\/\/\S+$/, "must look like 'http://collector:4318'")
        .optional(),
    })
    .optional(),
  /** Timeouts, retries, circuit breakers and bulkheads of integration calls. See docs/resilience.md. */
  resilience: resilienceSchema.optional(),
  /** Faults injected into calls into a service (latency, errors, dropped connections), for chaos tests. */
  faults: z.array(faultSchema).optional(),
});

export const environmentsSchema = z.strictObject({
  development: environmentSchema.optional(),
  staging: environmentSchema.optional(),
  production: environmentSchema.optional(),
});

/** What `app({ environments })` accepts. */
export type EnvironmentsInput = z.input<typeof environmentsSchema>;
export type EnvironmentInput = z.input<typeof environmentSchema>;
export type Resources = z.output<typeof resources>;
export type EventTransport = z.output<typeof eventTransport>;
export type DatabaseSource = z.output<typeof database>;
export type CertificateSource = z.output<typeof certificates>;
export type IngressTls = z.output<typeof ingressTls>;

/**
 * Checks `environments` of an app and reports the first problems with their path, e.g.
 * `environments.production.gateway.domian: unrecognized key`.
 */
export function parseEnvironments(input: unknown, where: string): EnvironmentsInput {
  const result = environmentsSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    return keys.map((key) => {
      const path = ['environments', ...issue.path.map(String), ...(key === undefined ? [] : [key])].join('.');
      return key === undefined ? `${path}: ${issue.message}` : `${path}: unknown key`;
    });
  });
  throw new TypeError(`${where}: ${problems.flat().join('; ')}`);
}
