import { platformError, type CaroteneError } from 'carotene/model';
import { Agent, request } from 'undici';

/** One request to an outside HTTP API, as the service's HTTP clients build it. */
export interface OutboundRequest {
  /** The integration's name: whose errors these are. */
  readonly target: string;
  readonly url: URL;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array | undefined;
  /** Epoch ms when the attempt gives up (DEADLINE_EXCEEDED). */
  readonly deadline: number;
  /** The largest body read; a larger one is UPSTREAM_ERROR. */
  readonly maxResponseBytes: number;
}

export interface OutboundResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/**
 * One connection pool for every outside API of the process (undici keeps one per origin
 * inside it). Redirects are not followed: a redirect to a host the integration did not
 * declare would leave the egress policy, so the 3xx is the handler's to read.
 */
const agent = new Agent({ connect: { timeout: 10_000 }, keepAliveTimeout: 4_000 });

// Node's and undici's error codes, by what they mean for the caller
const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);
const REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);
const TIMEOUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/**
 * Sends one request and reads its answer within `deadline`, the body bounded by
 * `maxResponseBytes`. Every failure is a CaroteneError of `target` that says what happened:
 * UNAVAILABLE for DNS, refused, reset, TLS and connect-timeout failures (`details.reason`),
 * DEADLINE_EXCEEDED when the deadline passed, UPSTREAM_ERROR for a body over the limit.
 *
 * ```ts
 * const res = await sendOutbound({ target: 'cardProvider', url: new URL('https://api.cards.example/charges'), method: 'POST',
 *   headers: { 'content-type': 'application/json' }, body: '{}', deadline: Date.now() + 2_000, maxResponseBytes: 1 << 20 });
 * ```
 */
export async function sendOutbound(req: OutboundRequest): Promise<OutboundResponse> {
  const left = req.deadline - Date.now();
  const where = `${req.target} (${req.method} ${req.url.origin}${req.url.pathname})`;
  if (left <= 0) throw platformError('DEADLINE_EXCEEDED', `no time left to call ${where}`, { service: req.target, details: { reason: 'caller-deadline' } });
  // a timer of our own, cleared when the answer is read: an abort after the end would
  // surface as an error of a stream no one reads any more
  const controller = new AbortController();
  const signal = controller.signal;
  const timer = setTimeout(() => controller.abort(), left);
  try {
    const res = await request(req.url, {
      method: req.method as 'GET',
      headers: req.headers,
      body: req.body,
      signal,
      dispatcher: agent,
      headersTimeout: left,
      bodyTimeout: left,
    });
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > req.maxResponseBytes) {
      discard(res.body);
      throw tooLarge(where, req);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > req.maxResponseBytes) {
        discard(res.body);
        throw tooLarge(where, req);
      }
      chunks.push(chunk);
    }
    return { status: res.statusCode, headers: flatHeaders(res.headers), body: Buffer.concat(chunks) };
  } catch (err) {
    throw outboundError(err, where, req.target, signal.aborted);
  } finally {
    clearTimeout(timer);
  }
}

/** Stops reading a body; undici reports the stop as an error, which no one needs to hear. */
function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on('error', () => undefined);
  body.destroy();
}

function tooLarge(where: string, req: OutboundRequest): CaroteneError {
  return platformError('UPSTREAM_ERROR', `${where} answered with a body over ${req.maxResponseBytes} bytes (maxResponseBytes)`, {
    service: req.target,
    details: { reason: 'too-large', limit: req.maxResponseBytes },
  });
}

/** The CaroteneError that says why a request to `target` failed. */
export function outboundError(err: unknown, where: string, target: string, timedOut: boolean): CaroteneError {
  if ((err as { name?: unknown }).name === 'CaroteneError') return err as CaroteneError;
  const code = String((err as { code?: unknown }).code ?? (err as { cause?: { code?: unknown } }).cause?.code ?? '');
  const unavailable = (reason: string, what: string) =>
    platformError('UNAVAILABLE', `${where}: ${what}`, { service: target, details: { reason, code }, cause: err });
  if (timedOut || TIMEOUT.has(code) || (err as { name?: unknown }).name === 'TimeoutError') {
    return platformError('DEADLINE_EXCEEDED', `${where} did not answer in time`, { service: target, details: { reason: 'timeout', code }, cause: err });
  }
  if (DNS.has(code)) return unavailable('dns', `the host name does not resolve (${code})`);
  if (REFUSED.has(code)) return unavailable('refused', `the connection was refused (${code})`);
  if (RESET.has(code)) return unavailable('reset', `the connection closed before the answer came (${code})`);
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return unavailable('connect-timeout', 'no connection could be made in time');
  if (/CERT|TLS|SSL/i.test(code)) return unavailable('tls', `the TLS handshake failed (${code})`);
  return unavailable('network', `the request failed: ${(err as Error).message ?? String(err)}`);
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}
