import { CaroteneError, platformError } from 'carotene/model';

/** The JSON body of every failed public request. */
export interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly requestId: string;
    readonly details?: unknown;
  };
}

/** What the conversion needs to know about the request to explain a rejection. */
export interface RequestFacts {
  readonly bodyLimit: number;
  readonly contentType: string | undefined;
}

/** Messages shown instead of an internal 5xx message, which may name hosts or internals. */
const PUBLIC_5XX: Readonly<Record<string, string>> = {
  UNAVAILABLE: 'The service behind this route is unavailable; try again shortly',
  DEADLINE_EXCEEDED: 'The request did not complete within its deadline',
};
const GENERIC_5XX = 'Internal error; quote the request id when reporting it';

/**
 * Converts anything thrown while serving a public request into a `CaroteneError`: Carotene
 * errors pass unchanged, the HTTP layer's own rejections (bad JSON, body too large, wrong
 * content type, a client gone before its body arrived) become catalog errors, and anything
 * else becomes INTERNAL. The second
 * element says whether the error was unexpected, so the caller logs its stack.
 *
 * ```ts
 * const [err, unexpected] = toCaroteneError(thrown, { bodyLimit, contentType });
 * ```
 */
export function toCaroteneError(thrown: unknown, facts: RequestFacts): [CaroteneError, boolean] {
  if (thrown instanceof CaroteneError) return [thrown, false];
  const code = (thrown as { code?: unknown } | null)?.code;
  const status = (thrown as { statusCode?: unknown } | null)?.statusCode;
  const own = { service: 'gateway' };
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [platformError('PAYLOAD_TOO_LARGE', `Request body is larger than the gateway's limit of ${facts.bodyLimit} bytes`, own), false];
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return [platformError('MALFORMED_REQUEST', 'Request body is not valid JSON (keys such as __proto__ are refused too)', own), false];
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return [
        platformError('MALFORMED_REQUEST', 'Request body is empty but Content-Type says application/json; send a JSON object or no Content-Type', own),
        false,
      ];
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return [
        new CaroteneError('MALFORMED_REQUEST', `Content-Type '${clip(facts.contentType ?? '')}' is not supported; send the body as application/json`, {
          ...own,
          status: 415,
        }),
        false,
      ];
  }
  if (code === 'ECONNRESET') {
    // node's 'aborted': the connection closed while the body was being read
    return [platformError('CLIENT_DISCONNECTED', 'The client closed the connection before its request body arrived in full', own), false];
  }
  if (typeof code === 'string' && code.startsWith('FST_') && typeof status === 'number' && status >= 400 && status < 500) {
    // the HTTP layer refused the request itself (bad Content-Length, ...): the client's fault
    return [new CaroteneError('MALFORMED_REQUEST', (thrown as Error).message, { ...own, status }), false];
  }
  return [platformError('INTERNAL', GENERIC_5XX, own), true];
}

/**
 * The body a public client sees. Domain errors and the client's own mistakes keep their
 * message; an internal failure from behind the gateway gets a generic one, because its
 * message can name internal hosts. Details travel only where they are meant for the
 * client: declared domain errors and input validation.
 */
export function errorBody(err: CaroteneError, requestId: string): ErrorBody {
  const exposed = err.domain || err.status < 500 || err.service === 'gateway';
  const message = exposed ? err.message : (PUBLIC_5XX[err.code] ?? GENERIC_5XX);
  const withDetails = err.details !== undefined && (err.domain || err.code === 'INVALID_INPUT');
  return { error: { code: err.code, message, requestId, ...(withDetails ? { details: err.details } : {}) } };
}

/**
 * Seconds for the `Retry-After` header of a 503 that failed fast (an open circuit breaker or
 * a full bulkhead behind the gateway says when to come back); undefined for anything else.
 *
 * ```ts
 * retryAfterSeconds(err)  // 8 for details { state: 'open', retryAfterMs: 7_250 }
 * ```
 */
export function retryAfterSeconds(err: CaroteneError): number | undefined {
  if (err.code !== 'UNAVAILABLE') return undefined;
  const ms = (err.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? Math.max(1, Math.ceil(ms / 1_000)) : undefined;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
