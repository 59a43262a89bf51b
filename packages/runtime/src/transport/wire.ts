import type { AuthClaims } from 'carotene/model';
import { platformError } from 'carotene/model';

/**
 * Header names of the internal RPC protocol: `POST /rpc/<function>` with a JSON body. The
 * caller is not a header: it is the identity in the caller's TLS certificate.
 */
export const HEADER = {
  /** Milliseconds left until the caller's deadline (relative, so clocks need not agree). */
  timeout: 'carotene-timeout',
  auth: 'carotene-auth',
  idempotencyKey: 'idempotency-key',
  requestId: 'x-request-id',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

export const RPC_PREFIX = '/rpc/';

/** A request id a caller may choose; any other gets a fresh one. */
export const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Internal calls without a deadline header get this much time. */
export const DEFAULT_DEADLINE_MS = 10_000;
/** An incoming deadline is never honoured beyond this. */
export const MAX_DEADLINE_MS = 300_000;

export function encodeAuth(auth: AuthClaims): string {
  return Buffer.from(JSON.stringify(auth)).toString('base64url');
}

export function decodeAuth(header: string): AuthClaims {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch {
    // fall through to the typed error
  }
  return checkAuth(value, `header ${HEADER.auth}`);
}

/** `value` as verified end-user claims, or MALFORMED_REQUEST naming `where` it came from. */
export function checkAuth(value: unknown, where: string): AuthClaims {
  const v = value as Partial<AuthClaims> | null;
  if (typeof v === 'object' && v !== null && typeof v.sub === 'string' && Array.isArray(v.roles) && typeof v.claims === 'object' && v.claims !== null) {
    return { sub: v.sub, roles: v.roles.filter((r): r is string => typeof r === 'string'), claims: v.claims };
  }
  throw platformError('MALFORMED_REQUEST', `${where} is not valid encoded claims`);
}

/** The budget of a call: `timeout` ms when it is a sane number, capped; the default otherwise. */
export function callBudget(timeout: unknown): number {
  const ms = typeof timeout === 'number' ? timeout : Number(timeout ?? DEFAULT_DEADLINE_MS);
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, MAX_DEADLINE_MS) : DEFAULT_DEADLINE_MS;
}
