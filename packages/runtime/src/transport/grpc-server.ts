import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { create, type DescMethod, type DescService, type Message } from '@bufbuild/protobuf';
import { Code, ConnectError, createContextKey, createContextValues, type HandlerContext } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { type CaroteneError, isCaroteneError, platformError } from 'carotene/model';
import { EventsService, HealthService, SERVING_STATUS } from './grpc-descriptors.ts';
import { DELIVER_FN, DELIVER_METHOD } from './grpc-events.ts';
import { toConnectError } from './grpc-status.ts';
import { traceHeadersOf } from '../telemetry/trace-context.ts';
import type { CallMeta } from './transport.ts';
import { callBudget, decodeAuth, HEADER, REQUEST_ID } from './wire.ts';

/** A request handler of either HTTP version (Connect's adapter is one). */
export type NodeHandlerFn = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void;

/** Turns a plain value of a zod schema into a message and back (see `@carotene/runtime/grpc`). */
export interface MessageCodec {
  toMessage(value: unknown): Message;
  fromMessage(message: Message): unknown;
}

/**
 * What the server needs of a contract's protobuf descriptors: the service and, per contract
 * function, its method and codecs. A `ContractProto` of `@carotene/runtime/grpc` is one.
 */
export interface GrpcContract {
  readonly service: DescService;
  readonly functions: Readonly<Record<string, { readonly method: DescMethod; readonly input: MessageCodec; readonly output: MessageCodec }>>;
}

/** The connection a gRPC request came on: its TLS socket (the caller's certificate) and how to cut it. */
export interface GrpcPeer {
  readonly socket: TLSSocket;
  readonly drop: () => void;
}

/** What {@link grpcHandler} asks of the server it is part of. */
export interface GrpcHooks {
  /** The Carotene service (the `domain` of every ErrorInfo it sends). */
  readonly service: string;
  readonly contract?: GrpcContract | undefined;
  readonly bodyLimit: number;
  /** Readiness, as `/ready` answers it. */
  readonly ready: () => Promise<{ ok: boolean }>;
  /** The caller named by the socket's client certificate. */
  caller(socket: TLSSocket): string;
  /** Runs one call the way every protocol does; rejects with a CaroteneError that names its origin. */
  run(fn: string, drop: () => void, meta: CallMeta, input: unknown): Promise<unknown>;
  /** Served when no gRPC (or Connect, gRPC-Web) route matches. */
  readonly fallback: NodeHandlerFn;
}

const PEER = createContextKey<GrpcPeer | undefined>(undefined, { description: 'carotene peer' });

/** The TLS socket of a request of either HTTP version (for HTTP/2, its session's). */
export function peerOf(req: IncomingMessage | Http2ServerRequest): GrpcPeer {
  if ('stream' in req) {
    const session = req.stream.session;
    return { socket: (session?.socket ?? req.socket) as TLSSocket, drop: () => void (session ? session.destroy() : req.stream.destroy()) };
  }
  return { socket: req.socket as TLSSocket, drop: () => void req.socket.destroy() };
}

/** One gRPC call as the method sees it, whichever path (node:http2 streams or Connect's handler) it came by. */
export interface GrpcCall {
  readonly peer: GrpcPeer;
  /** A request header (metadata), lower-case name. */
  header(name: string): string | undefined;
  /** The client's budget from `grpc-timeout`, when it sent one. */
  readonly timeoutMs: number | undefined;
  /** Aborted when the deadline passes or the client goes away; its reason a ConnectError saying which. */
  readonly signal: AbortSignal;
}

/** A method a service serves: unary (every contract function, health Check) or a server stream (health Watch). */
export type GrpcMethod =
  | { readonly kind: 'unary'; readonly method: DescMethod; serve(request: Message, call: GrpcCall): Promise<Message> }
  | {
      readonly kind: 'stream';
      readonly method: DescMethod;
      /** Sends messages until the call ends (the client cancels, or the server closes). */
      serve(request: Message, call: GrpcCall, send: (message: Message) => void): Promise<void>;
    };

/** The path a method is called by: `/<package>.<Service>/<Method>`. */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/**
 * Every method of the service's gRPC face by its path: one unary method per contract function,
 * named as `@carotene/runtime/grpc` names them, `carotene.events.v1.Events/Deliver` (the
 * runtime's `$deliver`: events from publishers in other languages) and `grpc.health.v1.Health`.
 * Every call goes through the same path as carotene-rpc/1 and HTTP/1.1 calls (`run`): the
 * caller is the identity of the connection's client certificate, then the caller policy, the
 * contract's validation, the handler, its log line and metrics.
 */
export function grpcMethods(hooks: GrpcHooks): ReadonlyMap<string, GrpcMethod> {
  const functions = { ...hooks.contract?.functions, [DELIVER_FN]: DELIVER_METHOD };
  const methods = [...unaryMethods(hooks, functions), ...healthMethods(hooks)];
  return new Map(methods.map((m) => [methodPath(m.method), m]));
}

/**
 * gRPC-Web and the Connect protocol (JSON or protobuf over HTTP/1.1 or HTTP/2, for browsers and
 * curl) of the same unary methods, through Connect's handler; gRPC proper is served on the
 * HTTP/2 streams directly (grpc-streams.ts). Anything else is `fallback`'s.
 */
export function connectHandler(hooks: GrpcHooks, methods: ReadonlyMap<string, GrpcMethod>): NodeHandlerFn {
  const fallback = hooks.fallback;
  return connectNodeAdapter({
    readMaxBytes: hooks.bodyLimit,
    contextValues: (req) => createContextValues().set(PEER, peerOf(req)),
    fallback: (req, res) => fallback(req, res as ServerResponse | Http2ServerResponse),
    routes: (router) => {
      for (const m of methods.values()) {
        if (m.kind !== 'unary') continue;
        router.rpc(m.method, ((request: Message, ctx: HandlerContext) => m.serve(request, callOf(ctx))) as never);
      }
    },
  }) as NodeHandlerFn;
}

function callOf(ctx: HandlerContext): GrpcCall {
  const peer = ctx.values.get(PEER);
  if (!peer) throw new ConnectError('no connection for this call', Code.Internal);
  return { peer, header: (name) => ctx.requestHeader.get(name) ?? undefined, timeoutMs: ctx.timeoutMs(), signal: ctx.signal };
}

function unaryMethods(hooks: GrpcHooks, functions: GrpcContract['functions']): GrpcMethod[] {
  return Object.entries(functions).map(([fn, { method, input, output }]) => {
    if (method.methodKind !== 'unary') throw new Error(`${methodPath(method)}: Carotene functions are unary`);
    const serve = async (request: Message, call: GrpcCall): Promise<Message> => {
      let meta: CallMeta;
      let value: unknown;
      try {
        meta = metaOf(call, hooks.caller(call.peer.socket));
        value = input.fromMessage(request);
      } catch (err) {
        throw toConnectError(isCaroteneError(err) ? err : platformError('MALFORMED_REQUEST', (err as Error).message), hooks.service);
      }
      const running = hooks.run(fn, call.peer.drop, meta, value);
      try {
        const result = await untilAborted(running, call.signal);
        return output.toMessage(result);
      } catch (err) {
        throw toConnectError(asCaroteneError(err, hooks.service, `${hooks.service}.${fn}`), hooks.service);
      }
    };
    return { kind: 'unary', method, serve } as const;
  });
}

/** How often a Watch of the health service re-reads readiness (a change is sent at most this late). */
const WATCH_INTERVAL_MS = 1_000;

function healthMethods(hooks: GrpcHooks): GrpcMethod[] {
  const known = new Set(['', EventsService.typeName, ...(hooks.contract ? [hooks.contract.service.typeName] : [])]);
  const [check, watch] = HealthService.methods as [DescMethod, DescMethod];
  const statusOf = async (): Promise<number> => ((await hooks.ready().catch(() => ({ ok: false }))).ok ? SERVING_STATUS.SERVING : SERVING_STATUS.NOT_SERVING);
  const answer = (status: number) => create(check.output, { status } as never);
  return [
    {
      kind: 'unary',
      method: check,
      serve: async (request) => {
        const name = (request as Message & { service?: string }).service ?? '';
        if (!known.has(name)) throw new ConnectError(`no service '${name}' here`, Code.NotFound);
        return answer(await statusOf());
      },
    },
    {
      kind: 'stream',
      method: watch,
      // as the protocol says: an unknown service is SERVICE_UNKNOWN (it may appear later), and each change is sent
      serve: async (request, call, send) => {
        const name = (request as Message & { service?: string }).service ?? '';
        let last = -1;
        while (!call.signal.aborted) {
          const status = known.has(name) ? await statusOf() : SERVING_STATUS.SERVICE_UNKNOWN;
          if (status !== last && !call.signal.aborted) send(answer(status));
          last = status;
          await abortableSleep(WATCH_INTERVAL_MS, call.signal);
        }
      },
    },
  ];
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** The CallMeta of a gRPC request: deadline from `grpc-timeout`, the rest from its metadata. */
function metaOf(call: GrpcCall, caller: string): CallMeta {
  const requestId = call.header(HEADER.requestId);
  const auth = call.header(HEADER.auth);
  return {
    caller,
    requestId: requestId && REQUEST_ID.test(requestId) ? requestId : randomUUID(),
    deadline: Date.now() + callBudget(call.timeoutMs),
    auth: auth ? decodeAuth(auth) : undefined,
    idempotencyKey: call.header(HEADER.idempotencyKey),
    ...traceHeadersOf(call.header(HEADER.traceparent), call.header(HEADER.tracestate)),
  };
}

/**
 * The call's answer, or its end when the client's deadline passes or it goes away first. The
 * handler is not interrupted mid-statement, but its deadline is the same one, so its next
 * `ctx.call` fails DEADLINE_EXCEEDED and its own callees stop waiting too.
 */
function untilAborted<T>(running: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    running.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function abortError(signal: AbortSignal): CaroteneError {
  const reason = signal.reason;
  if (reason instanceof ConnectError && reason.code === Code.DeadlineExceeded)
    return platformError('DEADLINE_EXCEEDED', 'the deadline passed before the call was answered');
  return platformError('CLIENT_DISCONNECTED', 'the client cancelled the call');
}

function asCaroteneError(err: unknown, service: string, owner: string): CaroteneError {
  if (isCaroteneError(err)) return err;
  return platformError('INTERNAL', `${owner} answered a value its protobuf message cannot hold`, { service, cause: err });
}
