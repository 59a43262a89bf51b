import { randomUUID } from 'node:crypto';
import type { ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { GatewayLimits } from 'carotene/model';
import { platformError, type CarotenePlatformCode } from 'carotene/model';
import type { ConnectionAnswers } from './connection-answers.ts';

export const DEFAULT_LIMITS = {
  maxUrlLength: 8_192,
  maxHeaderBytes: 16_384,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
} as const satisfies Required<GatewayLimits>;

/** The limits of one gateway with the defaults filled in. */
export function resolveLimits(limits: GatewayLimits = {}): Required<GatewayLimits> {
  const resolved = { ...DEFAULT_LIMITS, ...limits };
  // node refuses a header timeout longer than the whole-request timeout
  return { ...resolved, headersTimeoutMs: Math.min(resolved.headersTimeoutMs, resolved.requestTimeoutMs) };
}

/** Options of node's HTTP server that enforce the header size and slow-client timeouts. */
export function serverOptions(limits: Required<GatewayLimits>): ServerOptions {
  return {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // a missing Host is refused by checkRequestHead, with a JSON body like every other answer
    requireHostHeader: false,
    // how often node looks for expired requests: often enough that a timeout is honoured within a quarter of it
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

const CLIENT_ERRORS: Readonly<Record<string, readonly [number, CarotenePlatformCode, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'HEADERS_TOO_LARGE', 'Request headers are larger than the gateway accepts'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'REQUEST_TIMEOUT', 'The request was not received in time'],
  ERR_HTTP_HEADERS_TIMEOUT: [408, 'REQUEST_TIMEOUT', 'The request headers were not received in time'],
};

const REASONS: Readonly<Record<number, string>> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/**
 * Answers a request that node refused before any route ran (headers too large, too slow,
 * unparsable) with the same JSON error body as every other answer, then closes the socket.
 * A connection whose request was answered already is closed without a word: one answer
 * per request (see {@link ConnectionAnswers}).
 *
 * ```ts
 * Fastify({ clientErrorHandler: clientErrorHandler(answers) });
 * ```
 */
export function clientErrorHandler(answers: ConnectionAnswers): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    if (answers.verdict(socket) === 'close') {
      // what was written already still reaches the client; nothing more is read
      socket.destroySoon();
      return;
    }
    const [status, code, message] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'MALFORMED_REQUEST', 'The request is not valid HTTP'];
    // no request was parsed, so the id is fresh; it is in the body and the socket closes
    const body = JSON.stringify({ error: { code, message, requestId: randomUUID() } });
    socket.end(
      `HTTP/1.1 ${status} ${REASONS[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  };
}

/** 414 for a URL over the limit: checked before routing, so a long URL does no work. */
export function checkUrlLength(url: string, max: number): void {
  if (url.length > max) throw platformError('URI_TOO_LONG', `Request URL is ${url.length} bytes; the gateway accepts at most ${max}`, { service: 'gateway' });
}
