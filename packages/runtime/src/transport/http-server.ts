import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { TLSSocket } from 'node:tls';
import { CaroteneError, isCaroteneError, platformError } from 'carotene/model';
import type { CredentialSource } from '../security/credentials.ts';
import { identityFromSan } from '../security/identity.ts';
import { installedFaults, withFaults } from '../resilience/fault-injector.ts';
import { METRICS_CONTENT_TYPE, renderMetrics } from '../telemetry/metrics.ts';
import { traceHeadersOf } from '../telemetry/trace-context.ts';
import type { CallMeta } from './transport.ts';
import { RPC_ALPN } from './frames.ts';
import { connectHandler, grpcMethods, peerOf, type GrpcContract, type GrpcHooks } from './grpc-server.ts';
import { GrpcStreams } from './grpc-streams.ts';
import { isGrpcProto } from './grpc-wire.ts';
import { RpcSession, type IncomingCall } from './rpc-session.ts';
import { callBudget, checkAuth, decodeAuth, HEADER, REQUEST_ID, RPC_PREFIX } from './wire.ts';

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

export interface RpcHandler {
  invoke(fn: string, input: unknown, meta: CallMeta): Promise<unknown>;
}

export type Probe = () => Promise<{ ok: boolean; checks: Record<string, string> }>;

export interface RpcServerOptions {
  readonly service: string;
  readonly handler: RpcHandler;
  /** Readiness: database reachable, migrations applied. */
  readonly ready: Probe;
  /** Largest accepted body (default 4 MiB). */
  readonly bodyLimit?: number;
  /** This service's certificate and key, and the CAs whose certificates it accepts. */
  readonly tls: CredentialSource;
  /** The app whose identities (`spiffe://<app>/<name>`) callers must present. */
  readonly app: string;
  /** The contract's protobuf descriptors, served as gRPC (`@carotene/runtime/grpc`); without, only the health service. */
  readonly grpc?: GrpcContract | undefined;
}

/** Protocols of the one port, in the server's order of preference. */
export const ALPN_PROTOCOLS = [RPC_ALPN, 'h2', 'http/1.1'] as const;

/** The caller seen when a certificate from the app's CA names no identity of the app. */
export const NO_IDENTITY = '(no identity)';

/**
 * The service's one listener, TLS 1.3 with mutual authentication, speaking three protocols
 * chosen by ALPN: `carotene-rpc/1` (internal calls multiplexed as frames on long-lived
 * connections, what {@link HttpTransport} uses), `h2` (standard gRPC, gRPC-Web and Connect
 * for clients in any language, and the HTTP routes too) and `http/1.1` (`POST /rpc/<fn>`,
 * `/health`, `/ready`, `/metrics`, for curl, probes and older callers). A connection is
 * accepted only with a certificate from the app's CA; the caller of every call is the
 * identity in that certificate (never a header, a frame or metadata). Credentials reload in
 * place when they rotate. It counts calls in flight on every protocol so that shutdown can
 * wait for them.
 */
export class RpcServer {
  readonly server: Http2SecureServer;
  readonly #options: RpcServerOptions;
  readonly #identities = new WeakMap<TLSSocket, string>();
  readonly #sessions = new Set<RpcSession>();
  readonly #h2 = new Set<ServerHttp2Session>();
  readonly #sockets = new Set<TLSSocket>();
  readonly #unsubscribe: () => void;
  readonly #bodyLimit: number;
  readonly #grpc: GrpcStreams;
  #inFlight = 0;
  #closing = false;
  #drained: (() => void) | undefined;

  constructor(options: RpcServerOptions) {
    this.#options = options;
    this.#bodyLimit = options.bodyLimit ?? 4 * 1024 * 1024;
    const { ca, cert, key } = options.tls.current();
    const hooks: GrpcHooks = {
      service: options.service,
      contract: options.grpc,
      bodyLimit: this.#bodyLimit,
      ready: options.ready,
      caller: (socket) => this.#caller(socket),
      run: (fn, drop, meta, input) => this.#run(fn, drop, meta, input),
      fallback: (req: Request, res: Response) => {
        req.resume();
        send(res as Response, 404, {
          error: platformError('UNKNOWN_FUNCTION', `no ${req.method} ${req.url} here; internal calls are POST ${RPC_PREFIX}<function>`).toJSON(),
        });
      },
    };
    const methods = grpcMethods(hooks);
    this.#grpc = new GrpcStreams({ methods, bodyLimit: this.#bodyLimit });
    const connect = connectHandler(hooks, methods);
    this.server = createSecureServer(
      {
        ca,
        cert,
        key,
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.3',
        allowHTTP1: true,
        // the first protocol of ours the client offers (node:http2 would otherwise offer only h2 and http/1.1)
        ALPNCallback: ({ protocols }) => ALPN_PROTOCOLS.find((p) => protocols.includes(p)),
      },
      (req: Request, res: Response) => {
        if (this.#closing && !('stream' in req)) res.setHeader('connection', 'close');
        this.#route(req, res, connect).catch((err: unknown) => send(res, 500, { error: platformError('INTERNAL', 'request failed', { cause: err }).toJSON() }));
      },
    );
    // HTTP/1.1 keeps idle connections a while (node:http2 leaves it unset for them)
    (this.server as unknown as { keepAliveTimeout: number }).keepAliveTimeout = 65_000;
    // the HTTP/2 server hands every secured socket to its HTTP/2 or HTTP/1.1 parser; ours go to a session
    const [http, ...others] = this.server.listeners('secureConnection') as Array<(socket: TLSSocket) => void>;
    if (!http || others.length > 0) throw new Error(`node:http2 changed: expected one 'secureConnection' listener, found ${others.length + (http ? 1 : 0)}`);
    this.server.removeAllListeners('secureConnection');
    this.server.on('secureConnection', (socket: TLSSocket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      if (socket.alpnProtocol !== RPC_ALPN) return http.call(this.server, socket);
      this.#session(socket);
    });
    // gRPC proper goes to its streams directly; every other HTTP/2 request to node:http2's request/response layer
    const [compat, ...more] = this.server.listeners('stream') as Array<(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, ...rest: unknown[]) => void>;
    if (!compat || more.length > 0) throw new Error(`node:http2 changed: expected one 'stream' listener, found ${more.length + (compat ? 1 : 0)}`);
    this.server.removeAllListeners('stream');
    this.server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, ...rest: unknown[]) => {
      if (isGrpcProto(headers['content-type'])) return this.#grpc.serve(stream, headers);
      compat.call(this.server, stream, headers, ...rest);
    });
    this.server.on('session', (session: ServerHttp2Session) => {
      this.#h2.add(session);
      session.once('close', () => this.#h2.delete(session));
      // a peer that vanished is not an error of the server
      session.on('error', () => undefined);
      if (this.#closing) session.close();
    });
    // new handshakes use the new credentials; open connections keep theirs
    this.#unsubscribe = options.tls.onChange((next) => this.server.setSecureContext({ ca: next.ca, cert: next.cert, key: next.key }));
  }

  listen(host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? `https://${host}:${address.port}` : `https://${host}:${port}`);
      });
    });
  }

  /** Stops accepting, lets calls in flight finish (up to `graceMs`), then closes every socket. */
  async close(graceMs = 10_000): Promise<void> {
    this.#unsubscribe();
    this.#closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // HTTP/1.1 connections between requests (node:http2 tracks them when it serves HTTP/1.1)
    (this.server as unknown as { closeIdleConnections(): void }).closeIdleConnections();
    for (const session of this.#sessions) session.goAway();
    this.#grpc.close();
    // HTTP/2: GOAWAY, streams in flight finish, then the session closes by itself
    for (const session of this.#h2) session.close();
    if (this.#inFlight > 0) {
      await Promise.race([new Promise<void>((resolve) => (this.#drained = resolve)), sleep(graceMs)]);
    }
    // clients close their connections once told to go away and answered; a moment for that
    if (this.#sessions.size > 0) await Promise.race([Promise.all([...this.#sessions].map((s) => once(s.socket, 'close'))), sleep(200)]);
    for (const session of this.#h2) session.destroy();
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  #session(socket: TLSSocket): void {
    const session = new RpcSession(socket, {
      bodyLimit: this.#bodyLimit,
      serve: (call) => this.#serveFrame(socket, call),
    });
    this.#sessions.add(session);
    socket.once('close', () => this.#sessions.delete(session));
    if (this.#closing) session.goAway();
  }

  #serveFrame(socket: TLSSocket, call: IncomingCall): Promise<readonly [number, string]> {
    const { head, body } = call;
    const requestId = typeof head.requestId === 'string' && REQUEST_ID.test(head.requestId) ? head.requestId : randomUUID();
    return this.#serve(head.fn, call.drop, () => {
      let input: unknown;
      try {
        input = body.length === 0 ? undefined : JSON.parse(body.toString('utf8'));
      } catch {
        throw platformError('MALFORMED_REQUEST', "the call's input is not valid JSON");
      }
      const meta: CallMeta = {
        caller: this.#caller(socket),
        requestId,
        deadline: Date.now() + callBudget(head.timeout),
        auth: head.auth === undefined ? undefined : checkAuth(head.auth, "the call's auth"),
        idempotencyKey: optionalString(head.idempotencyKey),
        traceparent: optionalString(head.traceparent),
        tracestate: optionalString(head.tracestate),
      };
      return { meta, input };
    });
  }

  async #route(req: Request, res: Response, grpc: (req: Request, res: Response) => void): Promise<void> {
    const url = req.url ?? '/';
    if (req.method === 'POST' && url.startsWith(RPC_PREFIX)) return this.#rpc(req, res, url.slice(RPC_PREFIX.length));
    if (req.method === 'GET' && url === '/health') return send(res, 200, { status: 'ok', service: this.#options.service });
    if (req.method === 'GET' && url === '/metrics') {
      // any identity of the app may read them (the supervisor presents `carrot`)
      const text = await renderMetrics();
      res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
      return void res.end(text);
    }
    if (req.method === 'GET' && url === '/ready') {
      const probe = await this.#options.ready();
      return send(res, probe.ok ? 200 : 503, { status: probe.ok ? 'ready' : 'not ready', service: this.#options.service, checks: probe.checks });
    }
    // gRPC, gRPC-Web and Connect (`POST /<package>.<Service>/<Method>`); anything else is its 404
    grpc(req, res);
  }

  async #rpc(req: Request, res: Response, fn: string): Promise<void> {
    const requestId = headerValue(req, HEADER.requestId);
    const id = requestId && REQUEST_ID.test(requestId) ? requestId : randomUUID();
    res.setHeader(HEADER.requestId, id);
    const [status, body] = await this.#serve(safeDecode(fn), peerOf(req).drop, async () => {
      const meta = this.#meta(req, id);
      const text = await readBody(req, this.#bodyLimit);
      try {
        return { meta, input: text.length === 0 ? undefined : JSON.parse(text) };
      } catch {
        throw platformError('MALFORMED_REQUEST', 'the request body is not valid JSON');
      }
    });
    if (res.headersSent || req.socket.destroyed) return;
    if (status === 204) return void res.writeHead(204).end();
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  /** Runs one call of the frame or HTTP/1.1 protocol; the answer as status and JSON body text (empty: no output). */
  async #serve(
    name: string,
    drop: () => void,
    request: () => { meta: CallMeta; input: unknown } | Promise<{ meta: CallMeta; input: unknown }>,
  ): Promise<readonly [number, string]> {
    this.#inFlight++;
    try {
      const requested = request();
      const { meta, input } = requested instanceof Promise ? await requested : requested;
      const output = await this.#invoke(name, drop, meta, input);
      return output === undefined ? [204, ''] : [200, JSON.stringify(output)];
    } catch (err) {
      const error = this.#failure(err);
      return [error.status, JSON.stringify({ error: error.toJSON() })];
    } finally {
      if (--this.#inFlight === 0) this.#drained?.();
    }
  }

  /** Runs one gRPC call (counted in flight like the others); rejects with a CaroteneError naming its origin. */
  async #run(name: string, drop: () => void, meta: CallMeta, input: unknown): Promise<unknown> {
    this.#inFlight++;
    try {
      return await this.#invoke(name, drop, meta, input);
    } catch (err) {
      throw this.#failure(err);
    } finally {
      if (--this.#inFlight === 0) this.#drained?.();
    }
  }

  #invoke(name: string, drop: () => void, meta: CallMeta, input: unknown): Promise<unknown> {
    const service = this.#options.service;
    const plan = installedFaults()?.plan(service, name);
    // no closures per call unless a fault is planned (docs/resilience.md): a drop cuts the connection without an answer
    if (!plan) return this.#options.handler.invoke(name, input, meta);
    return withFaults(
      plan,
      service,
      name,
      () => {
        drop();
        throw platformError('UNAVAILABLE', `fault injected: connection to ${service}.${name} dropped`);
      },
      () => this.#options.handler.invoke(name, input, meta),
    );
  }

  #failure(err: unknown): CaroteneError {
    const service = this.#options.service;
    return withOrigin(isCaroteneError(err) ? err : platformError('INTERNAL', `${service} failed`, { cause: err }), service);
  }

  #meta(req: Request, requestId: string): CallMeta {
    const auth = headerValue(req, HEADER.auth);
    return {
      caller: this.#caller(peerOf(req).socket),
      requestId,
      deadline: Date.now() + callBudget(headerValue(req, HEADER.timeout)),
      auth: auth ? decodeAuth(auth) : undefined,
      idempotencyKey: headerValue(req, HEADER.idempotencyKey),
      ...traceHeadersOf(req.headers[HEADER.traceparent], req.headers[HEADER.tracestate]),
    };
  }

  /** The identity in the peer's certificate, read once per connection. */
  #caller(socket: TLSSocket): string {
    let identity = this.#identities.get(socket);
    if (identity === undefined) {
      identity = identityFromSan(socket.getPeerCertificate().subjectaltname, this.#options.app) ?? NO_IDENTITY;
      this.#identities.set(socket, identity);
    }
    return identity;
  }
}

function withOrigin(err: CaroteneError, service: string): CaroteneError {
  return err.service !== undefined ? err : new CaroteneError(err.code, err.message, { status: err.status, domain: err.domain, service, details: err.details });
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A function name from a URL path; a bad escape stays as it is (and is then unknown). */
function safeDecode(fn: string): string {
  try {
    return decodeURIComponent(fn);
  } catch {
    return fn;
  }
}

function headerValue(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: Request, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      return reject(platformError('PAYLOAD_TOO_LARGE', `the body of ${declared} bytes is over the limit of ${limit}`));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(platformError('PAYLOAD_TOO_LARGE', `the body is over the limit of ${limit} bytes`));
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: Response, status: number, body: unknown): void {
  if (res.headersSent) return;
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
