import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { GatewayAuth } from 'carotene/model';
import type { AuthClaims } from 'carotene/model';
import { CaroteneError, platformError } from 'carotene/model';

/** Asymmetric only: `none` and HMAC (where a public key could double as the secret) are refused. */
export const ACCEPTED_ALGORITHMS = ['ES256', 'EdDSA', 'RS256'] as const;

/** `typ` values accepted by default: a plain JWT, or an OAuth access token (RFC 9068). */
export const DEFAULT_TOKEN_TYPES = ['JWT', 'at+jwt'] as const;

/** Seconds the issuer's clock may be off by default. */
const DEFAULT_CLOCK_SKEW_SECONDS = 5;

/** The claims that are times: a token whose value of one is not a number is malformed. */
const TIME_CLAIMS = ['exp', 'nbf', 'iat'];

/** Longest token (in characters) the verified-token cache holds. */
const MAX_CACHED_TOKEN = 4096;

export interface TokenVerifierOptions {
  readonly auth: GatewayAuth;
  /** Fetches the JSON Web Key Set (`{ keys: [...] }`) from the function `auth.jwks` names. */
  readonly fetchKeys: (requestId: string) => Promise<unknown>;
  readonly now: () => number;
  /** Keys are fetched again after this long (default 5 minutes). */
  readonly keysTtlMs?: number;
  /** A token naming an unknown key triggers a fetch at most this often (default 30 s). */
  readonly unknownKeyCooldownMs?: number;
  readonly onStaleKeys?: (err: unknown) => void;
  /** Verified tokens remembered at most (default 10 000); 0 verifies every token every time. */
  readonly cacheSize?: number;
}

/** Verifies end-user tokens and turns them into the claims a handler sees as `ctx.auth`. */
export interface TokenVerifier {
  /** Resolves with the claims, or rejects with UNAUTHENTICATED (bad token) or UNAVAILABLE (no keys). */
  verify(token: string, requestId: string): Promise<AuthClaims>;
  /** Tokens whose verification is remembered right now (for tests). */
  readonly cachedTokens: number;
}

interface KeySet {
  readonly keys: JWTVerifyGetKey;
  readonly fetchedAt: number;
  /** Tokens these keys verified, by the whole token string; dropped with the key set. */
  readonly verified: Map<string, Verified>;
}

interface Verified {
  readonly claims: AuthClaims;
  /** Epoch ms after which the token is checked again: its `exp` at the latest. */
  readonly until: number;
}

/**
 * Builds a verifier over the app's key set. Keys are cached; they are fetched again on a
 * TTL and, for key rotation, when a token names a key the cache does not hold (at most
 * once per cooldown, so random `kid`s cannot make the gateway hammer the key service).
 * If a refresh fails while keys are cached, the cached keys keep serving.
 *
 * A signature check costs far more than the rest of a request through the gateway, and a
 * client sends the same token with every request, so a token that verified is remembered,
 * by its exact string, until its `exp` (never longer) or until the key set is fetched
 * again, whichever comes first; a refreshed key set starts with no verified tokens, so a
 * retired key stops verifying as soon as it would without the cache. Only tokens that
 * verified are remembered, at most `cacheSize` of them (the oldest make room), and only
 * tokens up to 4 KB.
 *
 * ```ts
 * const verifier = createTokenVerifier({ auth, now: Date.now,
 *   fetchKeys: (requestId) => transport.call('users', 'jwks', {}, meta(requestId)) });
 * const claims = await verifier.verify(token, requestId);
 * ```
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { auth, now } = options;
  const ttl = options.keysTtlMs ?? 5 * 60_000;
  const cooldown = options.unknownKeyCooldownMs ?? 30_000;
  const cacheSize = options.cacheSize ?? 10_000;
  const skew = auth.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const requiredClaims = auth.requireExpiry === false ? [] : ['exp'];
  const types = auth.tokenTypes ?? DEFAULT_TOKEN_TYPES;
  if (!Number.isFinite(skew) || skew < 0) throw invalidAuth(`clockSkewSeconds must be a number of seconds, 0 or more; got ${skew}`);
  if (types.length === 0) throw invalidAuth("tokenTypes is empty, so no token with a typ would verify; list the accepted types (e.g. ['JWT', 'at+jwt'])");
  let current: KeySet | undefined;
  let nextRefresh = 0;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let pending: Promise<KeySet> | undefined;

  const fetchKeySet = async (requestId: string): Promise<KeySet> => {
    lastAttempt = now();
    const where = `${auth.jwks.service}.${auth.jwks.function}`;
    let body: unknown;
    try {
      body = await options.fetchKeys(requestId);
    } catch (err) {
      throw unavailable(`could not fetch the token keys from ${where}`, err);
    }
    if (!isKeySet(body)) throw unavailable(`${where} did not return a key set ({ keys: [...] })`);
    let keys: JWTVerifyGetKey;
    try {
      keys = createLocalJWKSet(body);
    } catch (err) {
      throw unavailable(`${where} returned an invalid key set`, err);
    }
    current = { keys, fetchedAt: now(), verified: new Map() };
    nextRefresh = current.fetchedAt + ttl;
    return current;
  };

  // one fetch at a time: concurrent requests share it
  const load = (requestId: string): Promise<KeySet> => {
    pending ??= fetchKeySet(requestId).finally(() => {
      pending = undefined;
    });
    return pending;
  };

  const keySet = async (requestId: string): Promise<KeySet> => {
    if (current && now() < nextRefresh) return current;
    try {
      return await load(requestId);
    } catch (err) {
      if (!current) throw err;
      options.onStaleKeys?.(err);
      nextRefresh = now() + cooldown;
      return current;
    }
  };

  const check = async (token: string, set: KeySet): Promise<AuthClaims> => {
    const at = now();
    const { payload, protectedHeader } = await jwtVerify(token, set.keys, {
      issuer: auth.issuer,
      audience: auth.audience,
      algorithms: [...ACCEPTED_ALGORITHMS],
      currentDate: new Date(at),
      clockTolerance: skew,
      requiredClaims,
    });
    checkType(protectedHeader.typ, types);
    // jose checks a future iat only together with a maximum age, which the gateway does not set
    if (typeof payload.iat === 'number' && payload.iat > at / 1000 + skew) {
      throw unauthenticated(`Token was issued in the future (its iat is more than ${skew} s ahead of the gateway's clock)`);
    }
    const claims = toClaims(payload);
    remember(set.verified, token, claims, at);
    return claims;
  };

  const remember = (verified: Map<string, Verified>, token: string, claims: AuthClaims, at: number): void => {
    // a long token is checked every time, so the cache stays within cacheSize × 4 KB
    if (cacheSize <= 0 || token.length > MAX_CACHED_TOKEN) return;
    // no exp: checked again when the key set is, as a bound on how long it is trusted
    const until = typeof claims.claims.exp === 'number' ? Math.min(claims.claims.exp * 1000, at + ttl) : at + ttl;
    if (until <= at) return;
    if (verified.size >= cacheSize) verified.delete(verified.keys().next().value!);
    verified.set(token, { claims, until });
  };

  const recalled = (set: KeySet, token: string): AuthClaims | undefined => {
    const hit = set.verified.get(token);
    if (hit === undefined) return undefined;
    if (now() < hit.until) return hit.claims;
    set.verified.delete(token);
    return undefined;
  };

  return {
    get cachedTokens() {
      return current?.verified.size ?? 0;
    },
    async verify(token, requestId) {
      // fresh keys are used without an await: the common case costs no extra promise
      const set = current && now() < nextRefresh ? current : await keySet(requestId);
      const known = recalled(set, token);
      if (known) return known;
      try {
        return await check(token, set);
      } catch (err) {
        if (!(err instanceof errors.JWKSNoMatchingKey) || now() - lastAttempt < cooldown) throw rejection(err, token);
      }
      // the token names a key we do not hold: the key set may have rotated
      const fresh = await load(requestId);
      try {
        return await check(token, fresh);
      } catch (err) {
        throw rejection(err, token);
      }
    },
  };
}

/** Refuses a token whose `typ` says it is something other than an access token. */
function checkType(typ: unknown, accepted: readonly string[]): void {
  if (typ === undefined) return;
  if (typeof typ !== 'string' || !accepted.some((a) => normalType(a) === normalType(typ))) {
    throw unauthenticated(`Token type${quoted(typ)} is not accepted; expected a typ header of ${accepted.join(' or ')}, or none`);
  }
}

/** RFC 7515 §4.1.9: media types compare without case, and `application/` may be left out. */
function normalType(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

function toClaims(payload: JWTPayload): AuthClaims {
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    throw unauthenticated("Token has no 'sub' claim naming the user");
  }
  const roles = payload['roles'] ?? [];
  if (!Array.isArray(roles) || !roles.every((r): r is string => typeof r === 'string')) {
    throw unauthenticated("Token's 'roles' claim must be an array of strings");
  }
  // frozen: one verified token's claims serve every request that carries it
  return Object.freeze({ sub: payload.sub, roles: Object.freeze(roles), claims: Object.freeze(payload) });
}

/** Says what was wrong with a token, without repeating anything secret. */
function rejection(err: unknown, token: string): CaroteneError {
  if (!(err instanceof errors.JOSEError)) {
    if (err instanceof CaroteneError) return err;
    return unauthenticated('Token could not be verified', err);
  }
  if (err instanceof errors.JWTExpired) return unauthenticated('Token has expired; sign in again', err);
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return unauthenticated(`Token has no '${err.claim}' claim`, err);
    if (err.reason === 'invalid' && TIME_CLAIMS.includes(err.claim)) {
      return unauthenticated(`Token has a malformed claim: '${err.claim}' must be a number (seconds since 1970)`, err);
    }
    const what: Readonly<Record<string, string>> = {
      nbf: 'Token is not valid yet (its nbf is in the future)',
      aud: 'Token has the wrong audience: it was not issued for this API',
      iss: 'Token has the wrong issuer: it was not issued by the expected authority',
      iat: 'Token has an invalid issued-at time (iat)',
    };
    return unauthenticated(what[err.claim] ?? `Token claim '${err.claim}' is invalid`, err);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return unauthenticated(`Token algorithm${quoted(header(token).alg)} is not accepted; use one of ${ACCEPTED_ALGORITHMS.join(', ')}`, err);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return unauthenticated('Token signature is invalid', err);
  if (err instanceof errors.JWKSNoMatchingKey) {
    return unauthenticated(`Token was signed by an unknown key${quoted(header(token).kid)}`, err);
  }
  if (err instanceof errors.JWKSMultipleMatchingKeys) return unauthenticated('Token names no key id (kid) and several keys match', err);
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) {
    return unauthenticated('Token is malformed: expected a signed JWT (header.payload.signature)', err);
  }
  return unauthenticated('Token could not be verified', err);
}

function header(token: string): { alg?: unknown; kid?: unknown } {
  try {
    return decodeProtectedHeader(token);
  } catch {
    return {};
  }
}

function quoted(value: unknown): string {
  // echoed from an untrusted token: short, printable, in quotes
  return typeof value === 'string' ? ` '${value.replace(/[^\x20-\x7e]/g, '?').slice(0, 40)}'` : '';
}

function isKeySet(body: unknown): body is JSONWebKeySet {
  return typeof body === 'object' && body !== null && Array.isArray((body as { keys?: unknown }).keys);
}

function invalidAuth(message: string): CaroteneError {
  return platformError('INVALID_CONFIG', `gateway.auth: ${message}`, { service: 'gateway' });
}

function unauthenticated(message: string, cause?: unknown): CaroteneError {
  return platformError('UNAUTHENTICATED', message, { service: 'gateway', cause });
}

/** The public message stays generic (it would name internal services); the detail goes to the log. */
function unavailable(detail: string, cause?: unknown): CaroteneError {
  return platformError('UNAVAILABLE', 'Token keys are unavailable, so the token cannot be checked; try again shortly', {
    service: 'gateway',
    cause: new Error(detail, cause === undefined ? undefined : { cause }),
  });
}
