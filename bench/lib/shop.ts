// The shop under `carrot dev`, and how the bench reaches its services directly: with the
// certificate of an identity the declared graph allows (mutual TLS on every service).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import { tlsFiles } from '../../packages/runtime/src/security/cert-paths.ts';
import { readCredentials } from '../../packages/runtime/src/security/credentials.ts';
import type { Registry } from '../../packages/runtime/src/transport/transport.ts';

export { freePort, startShop, type RunningShop } from '../../examples/shop/test/shop-process.ts';

export function readRegistry(dataDir: string): Registry {
  return JSON.parse(readFileSync(join(dataDir, 'registry.json'), 'utf8')) as Registry;
}

/** A keep-alive pool to one service, presenting `identity`'s certificate. */
export function servicePool(dataDir: string, url: string, identity: string, connections: number): Pool {
  const { ca, cert, key } = readCredentials(tlsFiles(dataDir, identity));
  // services are known by the identity in their certificate, not by a host name
  return new Pool(url, { connections, keepAliveTimeout: 30_000, connect: { ca, cert, key, checkServerIdentity: () => undefined } });
}

/** Logs in and returns the bearer token. */
export async function login(gateway: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${gateway}/api/users/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = (await res.json()) as { token?: string };
  if (!res.ok || !body.token) throw new Error(`login of ${email} failed: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

export const ADMIN = { email: 'admin@shop.test', password: 'change-me-admin' };
