import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { fromBinary, toBinary, type Message } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { parseTimeout } from '@connectrpc/connect/protocol-grpc';
import type { GrpcCall, GrpcMethod } from './grpc-server.ts';
import { ACCEPT_ENCODING, frame, GRPC_CONTENT_TYPE, headerOf, statusHeaders, unframe } from './grpc-wire.ts';
import { callBudget } from './wire.ts';

export interface GrpcStreamsOptions {
  readonly methods: ReadonlyMap<string, GrpcMethod>;
  /** Largest accepted message, in bytes. */
  readonly bodyLimit: number;
}

/**
 * gRPC proper (`application/grpc`) served on node:http2 streams directly: read the one
 * length-prefixed message, run the method, write the answer and the status trailers. It is
 * the same protocol Connect's handler speaks (and gRPC-Web and Connect still go through it),
 * without the request/response compatibility layer in between, which cost a Carotene gRPC
 * call more than a millisecond of waiting (docs/grpc.md, "Performance").
 *
 * Server streams (health `Watch`) stay open until the client cancels or {@link close} ends
 * them for a shutdown.
 */
export class GrpcStreams {
  readonly #options: GrpcStreamsOptions;
  readonly #open = new Set<AbortController>();

  constructor(options: GrpcStreamsOptions) {
    this.#options = options;
  }

  serve(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => undefined);
    const path = headerOf(headers, ':path') ?? '';
    const method = this.#options.methods.get(path);
    if (headerOf(headers, ':method') !== 'POST') return refuse(stream, new ConnectError('a gRPC call is a POST', Code.Unimplemented));
    if (!method) return refuse(stream, new ConnectError(`no method ${path} here`, Code.Unimplemented));
    const encoding = headerOf(headers, 'grpc-encoding');
    if (encoding !== undefined && encoding !== 'identity' && encoding !== 'gzip')
      return refuse(stream, new ConnectError(`the encoding ${encoding} is not supported (${ACCEPT_ENCODING} are)`, Code.Unimplemented));
    // a budget over Carotene's longest is cut to it (callBudget), not refused
    const timeout = parseTimeout(headerOf(headers, 'grpc-timeout') ?? null, Number.MAX_SAFE_INTEGER);
    if (timeout.error) return refuse(stream, timeout.error);

    const controller = new AbortController();
    let deadline: NodeJS.Timeout | undefined;
    if (timeout.timeoutMs !== undefined)
      deadline = setTimeout(() => controller.abort(new ConnectError('the deadline passed', Code.DeadlineExceeded)), callBudget(timeout.timeoutMs));
    let finished = false;
    stream.once('close', () => {
      clearTimeout(deadline);
      if (!finished && !controller.signal.aborted) controller.abort(new ConnectError('the client cancelled the call', Code.Canceled));
    });
    const session = stream.session;
    const call: GrpcCall = {
      peer: { socket: session?.socket as TLSSocket, drop: () => void (session ? session.destroy() : stream.destroy()) },
      header: (name) => headerOf(headers, name),
      timeoutMs: timeout.timeoutMs,
      signal: controller.signal,
    };

    const chunks: Buffer[] = [];
    let size = 0;
    const limit = this.#options.bodyLimit + 5;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      stream.off('data', onData);
      refuse(stream, new ConnectError(`the message is over the limit of ${this.#options.bodyLimit} bytes`, Code.ResourceExhausted));
      // the answer is out: the rest of the body is not wanted
      stream.close(constants.NGHTTP2_NO_ERROR);
    };
    stream.on('data', onData);
    stream.once('end', () => {
      if (size > limit) return;
      let request: Message;
      try {
        request = fromBinary(method.method.input, unframe(Buffer.concat(chunks, size), encoding, this.#options.bodyLimit));
      } catch (err) {
        return refuse(
          stream,
          err instanceof ConnectError
            ? err
            : new ConnectError(`the message is not a ${method.method.input.typeName}: ${(err as Error).message}`, Code.InvalidArgument),
        );
      }
      const answered =
        method.kind === 'unary'
          ? method.serve(request, call).then((message) => answer(stream, frame(toBinary(method.method.output, message))))
          : this.#stream(stream, method, request, call, controller);
      answered
        .catch((err: unknown) => refuse(stream, ConnectError.from(err)))
        .finally(() => {
          finished = true;
          clearTimeout(deadline);
        });
    });
  }

  /** Ends every open server stream (the server is closing). */
  close(): void {
    for (const controller of this.#open) controller.abort(new ConnectError('the server is shutting down', Code.Unavailable));
  }

  async #stream(
    stream: ServerHttp2Stream,
    method: Extract<GrpcMethod, { kind: 'stream' }>,
    request: Message,
    call: GrpcCall,
    controller: AbortController,
  ): Promise<void> {
    this.#open.add(controller);
    try {
      if (stream.destroyed) return;
      stream.respond({ ':status': 200, 'content-type': GRPC_CONTENT_TYPE, 'grpc-accept-encoding': ACCEPT_ENCODING }, { waitForTrailers: true });
      await method.serve(request, call, (message) => {
        if (!stream.destroyed) stream.write(frame(toBinary(method.method.output, message)));
      });
      const reason = controller.signal.reason;
      end(stream, reason instanceof ConnectError && reason.code === Code.Unavailable ? reason : undefined);
    } finally {
      this.#open.delete(controller);
    }
  }
}

/** A successful unary answer: headers, the message, then the OK status in trailers. */
function answer(stream: ServerHttp2Stream, message: Buffer): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ ':status': 200, 'content-type': GRPC_CONTENT_TYPE, 'grpc-accept-encoding': ACCEPT_ENCODING }, { waitForTrailers: true });
  end(stream, undefined, message);
}

/** Ends a stream whose headers are sent: its last message, if any, then the status in trailers. */
function end(stream: ServerHttp2Stream, error: ConnectError | undefined, last?: Buffer): void {
  if (stream.destroyed) return;
  stream.once('wantTrailers', () => {
    if (!stream.destroyed) stream.sendTrailers(error ? statusHeaders(error) : { ...OK });
  });
  if (last) stream.end(last);
  else stream.end();
}

const OK = statusHeaders(undefined);

/** An error answer: "Trailers-Only", the status in the one HEADERS frame; after headers went out, in trailers. */
function refuse(stream: ServerHttp2Stream, error: ConnectError): void {
  if (stream.destroyed) return;
  if (stream.headersSent) return end(stream, error);
  stream.respond({ ':status': 200, 'content-type': GRPC_CONTENT_TYPE, 'grpc-accept-encoding': ACCEPT_ENCODING, ...statusHeaders(error) }, { endStream: true });
}
