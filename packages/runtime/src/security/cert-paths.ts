import { join } from 'node:path';
import type { TlsFiles } from './credentials.ts';

/**
 * Where an app's certificates live, under its data folder:
 *
 * ```
 * <dataDir>/certs/ca/ca.key        the CA's private key: read only by `carrot`
 * <dataDir>/certs/ca/ca.crt        the current CA certificate
 * <dataDir>/certs/ca-bundle.pem    the CAs every process trusts (current, and the previous one after a rotation)
 * <dataDir>/certs/<identity>.crt   one certificate per service, `gateway` and `carrot`
 * <dataDir>/certs/<identity>.key
 * ```
 */
export function certsDir(dataDir: string): string {
  return join(dataDir, 'certs');
}

/** The files one process needs: the trust bundle, its certificate and its key. */
export function tlsFiles(dataDir: string, identity: string): TlsFiles {
  const dir = certsDir(dataDir);
  return { ca: bundleFile(dataDir), cert: join(dir, `${identity}.crt`), key: join(dir, `${identity}.key`) };
}

export function bundleFile(dataDir: string): string {
  return join(certsDir(dataDir), 'ca-bundle.pem');
}

export function caFiles(dataDir: string): { cert: string; key: string } {
  const dir = join(certsDir(dataDir), 'ca');
  return { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
}
