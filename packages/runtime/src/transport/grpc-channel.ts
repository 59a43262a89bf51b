import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders, type SecureClientSessionOptions } from 'node:http2';
import { Code, ConnectError } from '@connectrpc/connect';
import { codeFromHttpStatus } from '@connectrpc/connect/protocol-grpc';
import { frame, GRPC_CONTENT_TYPE, headerOf, statusOf, unframe } from './grpc-wire.ts';

/** Sessions that completed their handshake: a call on one that did not surely never ran. */
const connected = new WeakSet<ClientHttp2Session>();

/** No gRPC status came back (the connection failed, or `ETIMEDOUT`: none within the deadline). `sent` is false when the call surely never ran. */
export class GrpcConnectionError extends Error {
  readonly code: string;
  readonly sent: boolean;

  constructor(message: string, code: string, sent: boolean, cause?: unknown) {
    super(message, { cause });
    this.code = code;
    this.sent = sent;
  }
}

export interface GrpcChannelOptions {
  readonly url: string;
  readonly tls: SecureClientSessionOptions;
  /** A session with no call for this long is closed (default 60 s); the next call opens a new one. */
  readonly idleMs?: number;
}

/**
 * One HTTP/2 session with mutual TLS to one instance of a gRPC server, its calls multiplexed
 * as streams. Opened on the first call, opened again after it closed, went away or failed.
 * A unary call is one HEADERS frame, one DATA frame with the message, and the answer's
 * message and status (see grpc-wire.ts).
 */
export class GrpcChannel {
  readonly url: string;
  readonly #options: GrpcChannelOptions;
  #session: ClientHttp2Session | undefined;
  #calls = 0;
  #idle: NodeJS.Timeout | undefined;

  constructor(options: GrpcChannelOptions) {
    this.url = options.url;
    this.#options = options;
  }

  /** Calls `path` with one message; resolves with the answer's message, rejects with its status (a ConnectError) or a {@link GrpcConnectionError}. */
  unary(path: string, message: Uint8Array, metadata: OutgoingHttpHeaders, timeoutMs: number): Promise<Uint8Array> {
    const session = this.#open();
    this.#calls++;
    clearTimeout(this.#idle);
    return new Promise<Uint8Array>((resolve, reject) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': GRPC_CONTENT_TYPE,
        te: 'trailers',
        'grpc-timeout': `${Math.max(1, Math.ceil(timeoutMs))}m`,
        ...metadata,
      });
      let headers: IncomingHttpHeaders | undefined;
      let settled = false;
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        settle(new GrpcConnectionError(`no answer within ${timeoutMs} ms`, 'ETIMEDOUT', true));
        stream.close(constants.NGHTTP2_CANCEL);
      }, timeoutMs);
      const settle = (outcome: Uint8Array | Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (--this.#calls === 0) this.#idleTimer();
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      stream.on('response', (h) => {
        headers = h;
        const status = statusOf(h);
        // Trailers-Only: the status came in the headers
        if (status !== undefined) settle(status ?? new ConnectError('the server ended the call with OK but no message', Code.Internal));
        else if (h[':status'] !== 200) settle(new ConnectError(`the server answered HTTP ${h[':status']}, not gRPC`, codeFromHttpStatus(Number(h[':status']))));
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('trailers', (trailers) => {
        const status = statusOf(trailers);
        if (status === undefined) return settle(new ConnectError('the answer ended without a gRPC status', Code.Internal));
        if (status) return settle(status);
        try {
          settle(unframe(Buffer.concat(chunks), headerOf(headers ?? {}, 'grpc-encoding')));
        } catch (err) {
          settle(err as Error);
        }
      });
      // not sent: the session never connected, or the server refused the stream or went away before taking it
      const sent = (code?: number, error?: string) =>
        headers !== undefined || (connected.has(session) && code !== constants.NGHTTP2_REFUSED_STREAM && error !== 'ERR_HTTP2_GOAWAY_SESSION');
      stream.on('close', () => {
        if (settled) return;
        const code = stream.rstCode;
        settle(new GrpcConnectionError(`the stream to ${this.url} closed without a status (HTTP/2 code ${code ?? 'none'})`, 'ECONNRESET', sent(code)));
      });
      stream.on(
        'error',
        (err: Error & { code?: string }) =>
          settled || settle(new GrpcConnectionError(err.message, err.code ?? 'ECONNRESET', sent(stream.rstCode, err.code), err)),
      );
      stream.end(frame(message));
    });
  }

  /** Closes the session once its calls have answered. */
  close(): void {
    clearTimeout(this.#idle);
    this.#session?.close();
    this.#session = undefined;
  }

  /** Closes the session at once; calls in flight fail. */
  destroy(): void {
    clearTimeout(this.#idle);
    this.#session?.destroy();
    this.#session = undefined;
  }

  #open(): ClientHttp2Session {
    const current = this.#session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = connect(this.url, { ...this.#options.tls, ALPNProtocols: ['h2'], noDelay: true } as SecureClientSessionOptions);
    // failures reach the calls through their streams
    session.on('error', () => undefined);
    const forget = () => {
      if (this.#session === session) this.#session = undefined;
    };
    session.once('connect', () => connected.add(session));
    session.once('close', forget);
    session.once('goaway', forget);
    session.setTimeout(0);
    this.#session = session;
    return session;
  }

  #idleTimer(): void {
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => this.close(), this.#options.idleMs ?? 60_000);
    this.#idle.unref();
  }
}
