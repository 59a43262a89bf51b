// @peculiar/x509 resolves its ASN.1 parsers through decorators that need this polyfill
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { spiffeId } from './identity.ts';

x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** A certificate and its private key, both PEM. */
export interface KeyPairPem {
  readonly cert: string;
  readonly key: string;
}

/** How long new certificates are valid. */
export interface Validity {
  readonly notBefore?: Date;
  readonly days?: number;
}

/**
 * Creates the certificate authority of one app: an ECDSA P-256 key that signs every
 * service certificate of that app and nothing else (path length 0).
 *
 * ```ts
 * const ca = await createCertificateAuthority('shop');
 * const orders = await issueCertificate(ca, 'shop', 'orders');
 * ```
 */
export async function createCertificateAuthority(app: string, validity: Validity = {}): Promise<KeyPairPem> {
  const keys = await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
  const notBefore = validity.notBefore ?? new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${cnSafe(app)} Carotene CA, O=Carotene`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + (validity.days ?? 3650) * DAY_MS),
    keys: keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
}

/** The host names a server certificate answers to, beside its SPIFFE identity (see {@link hostNames}). */
export interface HostNames {
  readonly dns?: readonly string[];
  readonly ips?: readonly string[];
}

/**
 * The names standard clients (gRPC in any language, curl) check a service's certificate
 * against: the service's name; with `namespaces`, its Kubernetes names in each (`<svc>.<ns>`,
 * `<svc>.<ns>.svc`, `<svc>.<ns>.svc.cluster.local`); with `local` (`carrot dev`),
 * `localhost` and 127.0.0.1.
 */
export function hostNames(identity: string, options: { namespaces?: readonly string[]; local?: boolean } = {}): Required<HostNames> {
  const dns = [identity, ...(options.namespaces ?? []).flatMap((ns) => [`${identity}.${ns}`, `${identity}.${ns}.svc`, `${identity}.${ns}.svc.cluster.local`])];
  if (options.local) dns.push('localhost');
  return { dns: [...new Set(dns)], ips: options.local ? ['127.0.0.1'] : [] };
}

/**
 * Issues the certificate of one identity (a service, `gateway` or `carrot`), valid for both
 * ends of a connection: its identity is the URI `spiffe://<app>/<identity>` (what Carotene
 * checks), and `names` are the DNS names and IP addresses it answers to as a server (what
 * standard TLS clients check).
 */
export async function issueCertificate(ca: KeyPairPem, app: string, identity: string, validity: Validity = {}, names: HostNames = {}): Promise<KeyPairPem> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await importPrivateKey(ca.key);
  const keys = await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
  const notBefore = validity.notBefore ?? new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${cnSafe(identity)}, O=${cnSafe(app)}`,
    issuer: caCert.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + (validity.days ?? 90) * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(
        [
          { type: 'url', value: spiffeId(app, identity) },
          ...(names.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
          ...(names.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
        ],
        // no subject names to speak of: the SANs are the certificate's names, so critical
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0];
  if (!der) throw new Error('the CA private key is not PEM');
  return webcrypto.subtle.importKey('pkcs8', der, EC_KEY, false, ['sign']);
}

/** 16 random bytes, positive (the top bit clear), as hex. */
function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

function cnSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9 ._-]/g, '_');
}
