import type { AuthClaims } from '../declare/handler.ts';
import { platformError } from '../errors.ts';

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

/** Internal calls without a deadline header get this much time. */
export const DEFAULT_DEADLINE_MS = 10_000;
/** An incoming deadline is never honoured beyond this. */
export const MAX_DEADLINE_MS = 300_000;

export function encodeAuth(auth: AuthClaims): string {
  return Buffer.from(JSON.stringify(auth)).toString('base64url');
}

export function decodeAuth(header: string): AuthClaims {
  try {
    const value = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Partial<AuthClaims>;
    if (typeof value.sub === 'string' && Array.isArray(value.roles) && typeof value.claims === 'object' && value.claims !== null) {
      return { sub: value.sub, roles: value.roles.filter((r): r is string => typeof r === 'string'), claims: value.claims };
    }
  } catch {
    // fall through to the typed error
  }
  throw platformError('MALFORMED_REQUEST', `header ${HEADER.auth} is not valid encoded claims`);
}
