import { Secret } from 'kubernetes-models/v1/Secret';
import type { AppDef } from 'carotene/model';
import { sortedServices } from '../app-graph.ts';
import type { Environment } from '../environment.ts';
import { GATEWAY, labels, tlsSecretName } from './labels.ts';

/** One identity's PEM files, as `carrot` issued them under `<dataDir>/certs/`. */
export interface IdentityPem {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** A cert-manager Certificate (not part of the core API, so built and checked here). */
export interface CertificateResource {
  readonly apiVersion: 'cert-manager.io/v1';
  readonly kind: 'Certificate';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Record<string, string> };
  readonly spec: {
    readonly secretName: string;
    readonly commonName: string;
    readonly uris: readonly string[];
    readonly dnsNames: readonly string[];
    readonly duration: string;
    readonly renewBefore: string;
    readonly privateKey: { readonly algorithm: 'ECDSA'; readonly size: 256; readonly rotationPolicy: 'Always' };
    readonly usages: readonly string[];
    readonly issuerRef: { readonly name: string; readonly kind: string; readonly group: 'cert-manager.io' };
  };
}

/** Every identity that needs a certificate: each service and the gateway. */
export function identities(app: AppDef): string[] {
  return [...sortedServices(app).map((s) => s.name), GATEWAY];
}

/**
 * The mTLS material of every identity: Secrets holding the files `carrot` issued (shape of
 * a `kubernetes.io/tls` Secret plus `ca.crt`, as cert-manager writes it too), or cert-manager
 * Certificates that issue the same Secrets in the cluster. Identity is the URI SAN
 * `spiffe://<app>/<name>`, the one the callee checks against the declared graph.
 */
export function tlsResources(app: AppDef, env: Environment, pems: Readonly<Record<string, IdentityPem>>): Array<Secret | CertificateResource> {
  const source = env.certificates;
  return identities(app).flatMap((name): Array<Secret | CertificateResource> => {
    const meta = { name: tlsSecretName(name), namespace: env.namespace, labels: labels(app.name, name, name === GATEWAY ? 'gateway' : 'service') };
    if (source.source === 'cert-manager') {
      return [
        {
          apiVersion: 'cert-manager.io/v1',
          kind: 'Certificate',
          metadata: meta,
          spec: {
            secretName: tlsSecretName(name),
            commonName: name,
            uris: [`spiffe://${app.name}/${name}`],
            dnsNames: [name, `${name}.${env.namespace}`, `${name}.${env.namespace}.svc`, `${name}.${env.namespace}.svc.cluster.local`],
            duration: '2160h',
            renewBefore: '360h',
            privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
            usages: ['client auth', 'digital signature', 'key encipherment', 'server auth'],
            issuerRef: { name: source.issuer, kind: source.issuerKind ?? 'Issuer', group: 'cert-manager.io' },
          },
        },
      ];
    }
    const pem = pems[name];
    if (!pem) return [];
    const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
    return [new Secret({ metadata: meta, type: 'kubernetes.io/tls', data: { 'ca.crt': b64(pem.ca), 'tls.crt': b64(pem.cert), 'tls.key': b64(pem.key) } })];
  });
}
