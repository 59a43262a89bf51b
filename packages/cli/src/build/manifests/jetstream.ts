import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { AppDef } from 'carotene/model';
import { eventsOf, sortedServices } from '../app-graph.ts';
import type { Environment } from '../environment.ts';
import { labels } from './labels.ts';
import { SECURITY_CONTEXT } from './pod-spec.ts';

/** A JetStream stream, in the JSON the NATS CLI takes with `--config`. */
export interface StreamDefinition {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly retention: 'limits';
  readonly storage: 'file';
  readonly discard: 'old';
  readonly num_replicas: number;
  /** Nanoseconds. */
  readonly max_age: number;
  /** Nanoseconds; publishes with a repeated message id inside it are dropped. */
  readonly duplicate_window: number;
}

/** A durable pull consumer: one per subscribing service and publisher. */
export interface ConsumerDefinition {
  readonly stream: string;
  readonly durable_name: string;
  readonly filter_subject: string;
  readonly ack_policy: 'explicit';
  readonly deliver_policy: 'all';
  /** -1: redelivered until acknowledged (the inbox de-duplicates). */
  readonly max_deliver: -1;
  readonly max_ack_pending: number;
  /** Nanoseconds. */
  readonly ack_wait: number;
}

const NS_PER_HOUR = 3_600_000_000_000;
const token = (s: string): string => s.replace(/[^A-Za-z0-9_-]/g, '_');

/**
 * Names as the JetStream event transport uses them at run time (events/jetstream-transport.ts):
 * one stream per app taking `carotene.<app>.>`; an event type `<service>.<Event>` is the
 * subject `carotene.<app>.<service>.<Event>`.
 */
export function streamName(app: string): string {
  return `CAROTENE_${token(app).toUpperCase()}`;
}

export function eventSubject(app: string, type: string): string {
  return `carotene.${token(app)}.${type}`;
}

/**
 * The stream and consumers the app needs, created ahead of the services with the
 * environment's replication and retention (the services create missing ones with defaults,
 * never with replicas): one stream for the app, one durable consumer per subscribing
 * service and publisher. Empty when events travel directly or nobody publishes.
 */
export function jetStreamDefinitions(app: AppDef, env: Environment): { streams: StreamDefinition[]; consumers: ConsumerDefinition[] } {
  if (env.events.transport !== 'nats') return { streams: [], consumers: [] };
  if (!sortedServices(app).some((s) => eventsOf(s).publishes.length > 0)) return { streams: [], consumers: [] };
  const stream = streamName(app.name);
  const streams: StreamDefinition[] = [
    {
      name: stream,
      subjects: [`carotene.${token(app.name)}.>`],
      retention: 'limits',
      storage: 'file',
      discard: 'old',
      num_replicas: env.events.streamReplicas ?? 1,
      max_age: (env.events.maxAgeHours ?? 168) * NS_PER_HOUR,
      duplicate_window: 120_000_000_000,
    },
  ];
  const consumers: ConsumerDefinition[] = [];
  // a service in another language reads no stream, and pushes its own events (docs/grpc.md, "Events")
  const external = new Set(app.services.filter((x) => x.kind === 'external').map((x) => x.name));
  for (const s of sortedServices(app).filter((x) => x.kind === 'service')) {
    const publishers = [...new Set(eventsOf(s).subscribes.map((e) => e.service))].filter((p) => !external.has(p)).sort();
    for (const publisher of publishers) {
      consumers.push({
        stream,
        durable_name: `${token(app.name)}_${token(s.name)}_from_${token(publisher)}`,
        filter_subject: `carotene.${token(app.name)}.${publisher}.>`,
        ack_policy: 'explicit',
        deliver_policy: 'all',
        max_deliver: -1,
        max_ack_pending: 10_000,
        ack_wait: 5_000_000_000, // as the transport's own: a killed consumer's messages come back in seconds
      });
    }
  }
  return { streams, consumers };
}

/** Image of the NATS command line the setup Job runs. */
export const NATS_BOX_IMAGE = 'natsio/nats-box:0.14.5';

/**
 * The definitions as a ConfigMap, and a Job that creates or updates each stream and
 * consumer with the NATS command line (idempotent: run it on every deploy).
 */
export function jetStreamResources(app: AppDef, env: Environment): Array<ConfigMap | Job> {
  const { streams, consumers } = jetStreamDefinitions(app, env);
  if (env.events.transport !== 'nats' || streams.length === 0) return [];
  const name = `${app.name}-jetstream`;
  const data: Record<string, string> = {};
  for (const s of streams) data[`stream-${s.name}.json`] = `${JSON.stringify(s, null, 2)}\n`;
  for (const c of consumers) data[`consumer-${c.durable_name}.json`] = `${JSON.stringify(c, null, 2)}\n`;
  const script = [
    'set -eu',
    'for f in /jetstream/stream-*.json; do',
    '  n=$(basename "$f" .json); n=${n#stream-}',
    '  if nats stream info "$n" >/dev/null 2>&1; then nats stream edit "$n" --config "$f" --force; else nats stream add "$n" --config "$f"; fi',
    'done',
    'for f in /jetstream/consumer-*.json; do',
    '  [ -e "$f" ] || continue',
    '  s=$(sed -n \'s/.*"stream": "\\(.*\\)".*/\\1/p\' "$f"); d=$(sed -n \'s/.*"durable_name": "\\(.*\\)".*/\\1/p\' "$f")',
    '  nats consumer info "$s" "$d" >/dev/null 2>&1 || nats consumer add "$s" "$d" --config "$f"',
    'done',
  ].join('\n');
  const meta = { name, namespace: env.namespace, labels: labels(app.name, name, 'events') };
  return [
    new ConfigMap({ metadata: meta, data: Object.fromEntries(Object.entries(data).sort(([a], [b]) => a.localeCompare(b))) }),
    new Job({
      metadata: meta,
      spec: {
        backoffLimit: 6,
        ttlSecondsAfterFinished: 86_400,
        template: {
          metadata: { labels: labels(app.name, name, 'events') },
          spec: {
            restartPolicy: 'OnFailure',
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'setup',
                image: NATS_BOX_IMAGE,
                command: ['sh', '-c', script],
                env: [
                  { name: 'HOME', value: '/tmp' },
                  { name: 'NATS_URL', value: env.events.url },
                ],
                resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
                securityContext: SECURITY_CONTEXT,
                volumeMounts: [
                  { name: 'jetstream', mountPath: '/jetstream', readOnly: true },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'jetstream', configMap: { name } },
              { name: 'tmp', emptyDir: {} },
            ],
          },
        },
      },
    }),
  ];
}
