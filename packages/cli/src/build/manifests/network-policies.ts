import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { AppDef } from 'carotene/model';
import { callersOf, eventPushers, externalPeers, gatewayReaches, sortedServices } from '../app-graph.ts';
import type { Environment } from '../environment.ts';
import { egressPolicies } from './egress-policies.ts';
import { GATEWAY, GATEWAY_PORT, labels, NAME_LABEL, PART_OF_LABEL, selector, SERVICE_PORT } from './labels.ts';

/** Who may open a connection to one service: derived from the declared graph, nothing else. */
export interface AllowList {
  readonly service: string;
  /** Pods of these services (and `gateway` when it serves the service's public routes). */
  readonly from: readonly string[];
  /** The metrics scraper's namespace, always admitted. */
  readonly metricsNamespace: string;
}

/**
 * The allow-list of every service: its declared callers, the gateway when it has public
 * routes, and the publishers whose events are pushed to it ({@link eventPushers}: all of
 * them with direct delivery; on a broker, those to or from a service in another language).
 */
export function allowLists(app: AppDef, env: Environment): AllowList[] {
  return sortedServices(app).map((s) => {
    const publishers = eventPushers(app, s, env.events.transport);
    const from = new Set([...callersOf(app, s.name), ...publishers, ...(gatewayReaches(app, s) ? [GATEWAY] : [])]);
    from.delete(s.name);
    return { service: s.name, from: [...from].sort(), metricsNamespace: env.metricsNamespace };
  });
}

/**
 * Network policies: deny every inbound connection in the namespace, then admit per service
 * exactly its allow-list (see {@link allowLists}) and the metrics scraper; the
 * gateway admits anyone (the Ingress controller lives outside the namespace). A service with
 * HTTP integrations also gets its egress policy ({@link egressPolicies}).
 */
export function networkPolicies(app: AppDef, env: Environment): NetworkPolicy[] {
  const meta = (service: string) => ({ name: `${service}-ingress`, namespace: env.namespace, labels: labels(app.name, service, 'service') });
  const scraper = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': env.metricsNamespace } } };
  const policies = [
    new NetworkPolicy({
      metadata: { name: 'default-deny-ingress', namespace: env.namespace, labels: { [PART_OF_LABEL]: app.name } },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    }),
    new NetworkPolicy({
      metadata: { ...meta(GATEWAY), labels: labels(app.name, GATEWAY, 'gateway') },
      spec: {
        podSelector: { matchLabels: selector(app.name, GATEWAY) },
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: GATEWAY_PORT, protocol: 'TCP' as const }] }],
      },
    }),
  ];
  for (const allow of allowLists(app, env)) {
    policies.push(
      new NetworkPolicy({
        metadata: meta(allow.service),
        spec: {
          podSelector: { matchLabels: selector(app.name, allow.service) },
          policyTypes: ['Ingress'],
          ingress: [
            ...(allow.from.length > 0
              ? [
                  {
                    from: allow.from.map((caller) => ({ podSelector: { matchLabels: { [NAME_LABEL]: caller, [PART_OF_LABEL]: app.name } } })),
                    ports: [{ port: SERVICE_PORT, protocol: 'TCP' as const }],
                  },
                ]
              : []),
            { from: [scraper], ports: [{ port: SERVICE_PORT, protocol: 'TCP' as const }] },
          ],
        },
      }),
    );
  }
  return [...policies, ...externalEgress(app, env), ...egressPolicies(app, env)];
}

/**
 * An external service may open connections only to what it calls and the subscribers of the
 * events it publishes (their mutual-TLS port; {@link externalPeers}), and to the cluster's DNS. (Carotene services' egress is not restricted here, so callers
 * reach an external service through its ingress policy alone.)
 */
export function externalEgress(app: AppDef, env: Environment): NetworkPolicy[] {
  return sortedServices(app)
    .filter((s) => s.kind === 'external')
    .map(
      (s) =>
        new NetworkPolicy({
          metadata: { name: `${s.name}-egress`, namespace: env.namespace, labels: labels(app.name, s.name, 'service') },
          spec: {
            podSelector: { matchLabels: selector(app.name, s.name) },
            policyTypes: ['Egress'],
            egress: [
              ...(externalPeers(app, s).length > 0
                ? [
                    {
                      to: externalPeers(app, s).map((peer) => ({ podSelector: { matchLabels: { [NAME_LABEL]: peer, [PART_OF_LABEL]: app.name } } })),
                      ports: [{ port: SERVICE_PORT, protocol: 'TCP' as const }],
                    },
                  ]
                : []),
              {
                to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
                ports: [
                  { port: 53, protocol: 'UDP' as const },
                  { port: 53, protocol: 'TCP' as const },
                ],
              },
            ],
          },
        }),
    );
}
