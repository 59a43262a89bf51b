import { isIP } from 'node:net';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { AppDef, HttpIntegration } from 'carotene/model';
import { sortedServices } from '../app-graph.ts';
import type { Environment } from '../environment.ts';
import { labels, selector } from './labels.ts';

/**
 * Addresses that are never "the outside world": private (RFC 1918), shared (RFC 6598, some
 * clusters' pod ranges), loopback and link-local (the cloud metadata endpoint
 * 169.254.169.254), and IPv6's unique-local and link-local ranges.
 */
export const PRIVATE_V4 = ['10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'];
export const PRIVATE_V6 = ['fc00::/7', 'fe80::/10'];

/** Where one HTTP integration lets the service connect to: a port, and the addresses on it. */
export interface EgressRule {
  readonly integration: string;
  readonly port: number;
  readonly blocks: readonly { readonly cidr: string; readonly except?: readonly string[] }[];
}

/**
 * The egress one HTTP integration needs. A NetworkPolicy selects addresses, not DNS names:
 * a base URL with an IP address opens that address alone; one with a host name opens its
 * port to every public address (its IPs change without notice), never the cluster's private
 * ranges, so the integration cannot become a way into the internal network.
 */
export function egressRule(integration: HttpIntegration): EgressRule {
  const url = new URL(integration.baseUrl);
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const family = isIP(host);
  if (family === 4) return { integration: integration.name, port, blocks: [{ cidr: `${host}/32` }] };
  if (family === 6) return { integration: integration.name, port, blocks: [{ cidr: `${host}/128` }] };
  return {
    integration: integration.name,
    port,
    blocks: [
      { cidr: '0.0.0.0/0', except: PRIVATE_V4 },
      { cidr: '::/0', except: PRIVATE_V6 },
    ],
  };
}

const tcp = (port: number) => ({ port, protocol: 'TCP' as const });

/**
 * One egress policy per service that declares HTTP integrations (the others stay as they
 * are: unrestricted egress). Once a pod has an egress policy, everything not listed is
 * refused, so it also admits: every pod of the cluster on any port (its calls to other
 * services, the broker, an in-cluster database, the trace collector), DNS on port 53
 * anywhere (kube-dns, or a node-local cache outside the pod network), PostgreSQL's port
 * anywhere when the database URL comes from a Secret (the build cannot read where it
 * points), and, for each integration, {@link egressRule}.
 */
export function egressPolicies(app: AppDef, env: Environment): NetworkPolicy[] {
  const policies: NetworkPolicy[] = [];
  for (const s of sortedServices(app)) {
    if (s.kind !== 'service') continue;
    // a service object written by hand may leave http out
    const http = [...(s.http ?? [])].sort((a, b) => a.name.localeCompare(b.name));
    if (http.length === 0) continue;
    const rules = http.map(egressRule);
    policies.push(
      new NetworkPolicy({
        metadata: {
          name: `${s.name}-egress`,
          namespace: env.namespace,
          labels: labels(app.name, s.name, 'service'),
          // which integration each rule is for, since the rules themselves hold only addresses
          annotations: { 'carotene.dev/http-integrations': http.map((h) => `${h.name}=${new URL(h.baseUrl).host}`).join(',') },
        },
        spec: {
          podSelector: { matchLabels: selector(app.name, s.name) },
          policyTypes: ['Egress'],
          egress: [
            { to: [{ namespaceSelector: {} }] },
            { ports: [{ port: 53, protocol: 'UDP' as const }, tcp(53)] },
            ...(env.database.source === 'secret' ? [{ ports: [tcp(5432)] }] : []),
            ...rules.map((r) => ({
              to: r.blocks.map((b) => ({ ipBlock: { cidr: b.cidr, ...(b.except ? { except: [...b.except] } : {}) } })),
              ports: [tcp(r.port)],
            })),
          ],
        },
      }),
    );
  }
  return policies;
}
