import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { DescMethod, DescService, Message } from '@bufbuild/protobuf';
import { Code, ConnectError, createContextKey, createContextValues, type ConnectRouter, type HandlerContext } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { type CaroteneError, isCaroteneError, platformError } from 'carotene/model';
import { HealthService, SERVING_STATUS } from './grpc-descriptors.ts';
import { toConnectError } from './grpc-status.ts';
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

/**
 * The service's gRPC face (and, from the same routes, gRPC-Web and the Connect protocol):
 * one unary method per contract function, named as `@carotene/runtime/grpc` names them, plus
 * `grpc.health.v1.Health/Check`. Every call goes through the same path as carotene-rpc/1 and
 * HTTP/1.1 calls (`run`): the caller is the identity of the connection's client certificate,
 * then the caller policy, the contract's validation, the handler, its log line and metrics.
 */
export function grpcHandler(hooks: GrpcHooks): NodeHandlerFn {
  const fallback = hooks.fallback;
  return connectNodeAdapter({
    readMaxBytes: hooks.bodyLimit,
    contextValues: (req) => createContextValues().set(PEER, peerOf(req)),
    fallback: (req, res) => fallback(req, res as ServerResponse | Http2ServerResponse),
    routes: (router) => {
      if (hooks.contract) routeContract(router, hooks, hooks.contract);
      routeHealth(router, hooks);
    },
  }) as NodeHandlerFn;
}

function routeContract(router: ConnectRouter, hooks: GrpcHooks, contract: GrpcContract): void {
  for (const [fn, { method, input, output }] of Object.entries(contract.functions)) {
    if (method.methodKind !== 'unary') throw new Error(`${contract.service.typeName}/${method.name}: Carotene functions are unary`);
    router.rpc(method, (async (request: Message, ctx: HandlerContext) => {
      const peer = ctx.values.get(PEER);
      if (!peer) throw new ConnectError('no connection for this call', Code.Internal);
      let meta: CallMeta;
      let value: unknown;
      try {
        meta = metaOf(ctx, hooks.caller(peer.socket));
        value = input.fromMessage(request);
      } catch (err) {
        throw toConnectError(isCaroteneError(err) ? err : platformError('MALFORMED_REQUEST', (err as Error).message), hooks.service);
      }
      const running = hooks.run(fn, peer.drop, meta, value);
      try {
        const result = await untilAborted(running, ctx.signal);
        return output.toMessage(result);
      } catch (err) {
        throw toConnectError(asCaroteneError(err, hooks.service, `${hooks.service}.${fn}`), hooks.service);
      }
    }) as never);
  }
}

function routeHealth(router: ConnectRouter, hooks: GrpcHooks): void {
  const known = new Set(['', ...(hooks.contract ? [hooks.contract.service.typeName] : [])]);
  router.rpc(HealthService.methods[0]!, (async (request: Message & { service?: string }) => {
    const name = request.service ?? '';
    if (!known.has(name)) throw new ConnectError(`no service '${name}' here`, Code.NotFound);
    const probe = await hooks.ready().catch(() => ({ ok: false }));
    return { status: probe.ok ? SERVING_STATUS.SERVING : SERVING_STATUS.NOT_SERVING };
  }) as never);
}

/** The CallMeta of a gRPC request: deadline from `grpc-timeout`, the rest from its metadata. */
function metaOf(ctx: HandlerContext, caller: string): CallMeta {
  const header = ctx.requestHeader;
  const requestId = header.get(HEADER.requestId);
  const auth = header.get(HEADER.auth);
  return {
    caller,
    requestId: requestId && REQUEST_ID.test(requestId) ? requestId : randomUUID(),
    deadline: Date.now() + callBudget(ctx.timeoutMs()),
    auth: auth ? decodeAuth(auth) : undefined,
    idempotencyKey: header.get(HEADER.idempotencyKey) ?? undefined,
    traceparent: header.get(HEADER.traceparent) ?? undefined,
    tracestate: header.get(HEADER.tracestate) ?? undefined,
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
