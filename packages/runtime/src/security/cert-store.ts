import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCertificateAuthority, issueCertificate, type HostNames, type KeyPairPem } from './certificate-authority.ts';
import { bundleFile, caFiles, certsDir, tlsFiles } from './cert-paths.ts';
import { identityFromSan } from './identity.ts';

/** Certificates of an identity are issued again when they have less than this left. */
const RENEW_BEFORE_MS = 7 * 86_400_000;

export interface EnsureResult {
  /** True when the CA was created now (first run). */
  readonly createdCa: boolean;
  /** Identities whose certificate was issued now. */
  readonly issued: readonly string[];
}

export interface EnsureOptions {
  /**
   * The DNS names and IPs each identity's certificate must carry (default: its name alone;
   * see `hostNames`). A certificate missing one is issued again, keeping the names it had, so
   * `carrot dev` (localhost) and `carrot build` (Kubernetes names) do not undo each other.
   */
  readonly names?: (identity: string) => HostNames;
}

/**
 * Makes sure the app has a CA and each identity a current certificate from it: creates
 * what is missing, and issues again a certificate that is expiring, names another
 * identity, lacks a host name asked for, or was not signed by the current CA. Idempotent;
 * `carrot dev` runs it first.
 */
export async function ensureCertificates(dataDir: string, app: string, identities: readonly string[], options: EnsureOptions = {}): Promise<EnsureResult> {
  await prepareDir(dataDir);
  let ca = await readPair(caFiles(dataDir));
  let createdCa = false;
  if (!ca) {
    ca = await createCertificateAuthority(app);
    await writePair(caFiles(dataDir), ca);
    createdCa = true;
  }
  const bundle = await readFile(bundleFile(dataDir), 'utf8').catch(() => '');
  if (!bundle.includes(ca.cert.trim())) await writeSecret(bundleFile(dataDir), ca.cert);
  const issued: string[] = [];
  for (const identity of identities) {
    const files = tlsFiles(dataDir, identity);
    const leaf = await readPair(files);
    const wanted = options.names?.(identity) ?? { dns: [identity] };
    const had = leaf ? certificateNames(leaf.cert) : { dns: [], ips: [] };
    const names = { dns: union(had.dns, wanted.dns), ips: union(had.ips, wanted.ips) };
    const complete = names.dns.length === had.dns.length && names.ips.length === had.ips.length;
    if (leaf && complete && isCurrent(leaf.cert, ca.cert, app, identity)) continue;
    await writePair(files, await issueCertificate(ca, app, identity, {}, names));
    issued.push(identity);
  }
  return { createdCa, issued };
}

export interface RotateOptions {
  /**
   * Pause between trusting the new CA everywhere and switching certificates to it, so
   * that every process has reloaded its trust bundle first (default 2 000 ms).
   */
  readonly settleMs?: number;
  readonly print?: (line: string) => void;
  /** Host names to add to each certificate, beside those it had (as for {@link ensureCertificates}). */
  readonly names?: (identity: string) => HostNames;
}

/**
 * Rotates every certificate of the app without downtime:
 * 1. creates a new CA and writes a trust bundle with the new CA *and* the current one, so
 *    each process, as it reloads, accepts peers with either;
 * 2. after `settleMs`, issues every identity a new certificate from the new CA.
 * Running processes watch the files and reload them; connections already open carry on,
 * new ones use the new certificates. The previous CA stays trusted until the next rotation.
 */
export async function rotateCertificates(dataDir: string, app: string, options: RotateOptions = {}): Promise<{ identities: readonly string[] }> {
  const print = options.print ?? (() => undefined);
  const old = await readPair(caFiles(dataDir));
  if (!old) throw new Error(`no certificate authority under ${certsDir(dataDir)}; run 'carrot dev' once to create it`);
  const identities = await existingIdentities(dataDir, app);
  const ca = await createCertificateAuthority(app);
  await writeSecret(bundleFile(dataDir), `${ca.cert.trim()}\n${old.cert.trim()}\n`);
  await writePair(caFiles(dataDir), ca);
  print(`trust bundle: new CA ${fingerprint(ca.cert)} and previous CA ${fingerprint(old.cert)}`);
  await sleep(options.settleMs ?? 2_000);
  for (const identity of identities) {
    const files = tlsFiles(dataDir, identity);
    // the host names the previous certificate answered to, and any asked for
    const had = certificateNames(await readFile(files.cert, 'utf8'));
    const wanted = options.names?.(identity) ?? {};
    await writePair(files, await issueCertificate(ca, app, identity, {}, { dns: union(had.dns, wanted.dns), ips: union(had.ips, wanted.ips) }));
    print(`issued ${identity}`);
  }
  return { identities };
}

/** Identities with a certificate on disk, whatever signed it. */
async function existingIdentities(dataDir: string, app: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(certsDir(dataDir))).sort()) {
    if (!name.endsWith('.crt')) continue;
    const identity = name.slice(0, -4);
    const cert = await readFile(join(certsDir(dataDir), name), 'utf8').catch(() => undefined);
    if (cert && identityFromSan(new X509Certificate(cert).subjectAltName, app) === identity) out.push(identity);
  }
  return out;
}

function isCurrent(certPem: string, caPem: string, app: string, identity: string): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    return (
      identityFromSan(cert.subjectAltName, app) === identity &&
      cert.checkIssued(ca) &&
      cert.verify(ca.publicKey) &&
      Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_MS
    );
  } catch {
    return false;
  }
}

/** The DNS names and IPs in a certificate's subjectAltName (its SPIFFE URI aside). */
export function certificateNames(certPem: string): { dns: string[]; ips: string[] } {
  let san: string | undefined;
  try {
    san = new X509Certificate(certPem).subjectAltName;
  } catch {
    return { dns: [], ips: [] };
  }
  const entries = (san ?? '').split(', ');
  const pick = (prefix: string) => entries.filter((e) => e.startsWith(prefix)).map((e) => e.slice(prefix.length));
  return { dns: pick('DNS:'), ips: pick('IP Address:') };
}

function union(a: readonly string[], b: readonly string[] = []): string[] {
  return [...new Set([...a, ...b])];
}

function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256.slice(0, 23);
}

async function prepareDir(dataDir: string): Promise<void> {
  await mkdir(join(certsDir(dataDir), 'ca'), { recursive: true, mode: 0o700 });
  await chmod(certsDir(dataDir), 0o700);
  await chmod(join(certsDir(dataDir), 'ca'), 0o700);
}

async function readPair(files: { cert: string; key: string }): Promise<KeyPairPem | undefined> {
  try {
    return { cert: await readFile(files.cert, 'utf8'), key: await readFile(files.key, 'utf8') };
  } catch {
    return undefined;
  }
}

/** Key first: a reader that sees the new certificate also finds its key. */
async function writePair(files: { cert: string; key: string }, pair: KeyPairPem): Promise<void> {
  await writeSecret(files.key, pair.key);
  await writeSecret(files.cert, pair.cert);
}

/** Written beside and renamed over, with mode 0600 from the start: never half a file, never readable by others. */
async function writeSecret(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, file);
}
