import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import type { RowOf } from 'carotene';
import type { z } from 'zod';
import type { PublicJwk } from './contract.ts';
import type { SigningKeyTable } from './tables.ts';

export type SigningKey = RowOf<typeof SigningKeyTable>;

const ALG = 'ES256';

/**
 * Makes a fresh ES256 key pair as a `signing_keys` row. The kid is the RFC 7638 thumbprint
 * of the public key, so the same key always has the same id.
 */
export async function createSigningKey(now = new Date()): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = await exportJWK(privateKey);
  return {
    kid,
    alg: ALG,
    privateJwk: JSON.stringify(privateJwk),
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg: ALG, use: 'sig' }),
    createdAt: now.toISOString(),
  };
}

/** The key that signs new tokens: the newest one, so adding a key rotates signing to it. */
export function currentKey(keys: readonly SigningKey[]): SigningKey | undefined {
  return [...keys].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.kid.localeCompare(b.kid))[0];
}

/** Tokens a verifier may receive a little late or from a clock a little ahead. */
const GRACE_SECONDS = 60;

/**
 * The keys whose tokens may still be valid at `now`: the current key, and each older key
 * until the longest-lived token it could have signed has expired (it stopped signing when
 * the next key was created). Every other key can be forgotten.
 *
 * ```ts
 * publishedKeys(keys, 3600, new Date()); // current key + keys replaced less than an hour ago
 * ```
 */
export function publishedKeys(keys: readonly SigningKey[], tokenTtlSeconds: number, now = new Date()): SigningKey[] {
  const newestFirst = [...keys].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.kid.localeCompare(b.kid));
  return newestFirst.filter((_key, i) => {
    if (i === 0) return true;
    const replacedAt = Date.parse(newestFirst[i - 1]!.createdAt);
    return replacedAt + (tokenTtlSeconds + GRACE_SECONDS) * 1000 > now.getTime();
  });
}

/** The public half of a stored key, with only the fields a verifier needs. */
export function publicJwkOf(key: SigningKey): z.output<typeof PublicJwk> {
  const { crv, x, y } = JSON.parse(key.publicJwk) as JWK;
  return { kty: 'EC', crv: String(crv), x: String(x), y: String(y), kid: key.kid, alg: key.alg, use: 'sig' };
}

export interface TokenOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
}

/**
 * Signs an access token for a user: `sub` is the user id, `roles` an array of role names.
 *
 * ```ts
 * const token = await signAccessToken(key, { sub: user.id, roles: ['admin'] }, config);
 * ```
 */
export async function signAccessToken(key: SigningKey, subject: { sub: string; roles: readonly string[] }, options: TokenOptions): Promise<string> {
  const privateKey = await importJWK(JSON.parse(key.privateJwk) as JWK, key.alg);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ roles: [...subject.roles] })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setSubject(subject.sub)
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + options.ttlSeconds)
    .sign(privateKey);
}
