import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
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
import { RpcSession, type IncomingCall } from './rpc-session.ts';
import { callBudget, checkAuth, decodeAuth, HEADER, RPC_PREFIX } from './wire.ts';

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
}

/** The caller seen when a certificate from the app's CA names no identity of the app. */
export const NO_IDENTITY = '(no identity)';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The service's one listener, TLS 1.3 with mutual authentication, speaking two protocols
 * chosen by ALPN: `carotene-rpc/1` (internal calls multiplexed as frames on long-lived
 * connections, what {@link HttpTransport} uses) and `http/1.1` (`POST /rpc/<fn>`, `/health`,
 * `/ready`, `/metrics`, for curl, probes and older callers). A connection is accepted only
 * with a certificate from the app's CA; the caller of every call is the identity in that
 * certificate (never a header or a frame). Credentials reload in place when they rotate. It
 * counts calls in flight on both protocols so that shutdown can wait for them.
 */
export class RpcServer {
  readonly server: Server;
  readonly #options: RpcServerOptions;
  readonly #identities = new WeakMap<TLSSocket, string>();
  readonly #sessions = new Set<RpcSession>();
  readonly #unsubscribe: () => void;
  readonly #bodyLimit: number;
  #inFlight = 0;
  #closing = false;
  #drained: (() => void) | undefined;

  constructor(options: RpcServerOptions) {
    this.#options = options;
    this.#bodyLimit = options.bodyLimit ?? 4 * 1024 * 1024;
    const { ca, cert, key } = options.tls.current();
    this.server = createServer(
      { ca, cert, key, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3', keepAliveTimeout: 65_000, ALPNProtocols: [RPC_ALPN, 'http/1.1'] },
      (req, res) => {
        this.#route(req, res).catch((err: unknown) => send(res, 500, { error: platformError('INTERNAL', 'request failed', { cause: err }).toJSON() }));
      },
    );
    // the HTTPS server hands every secured socket to its HTTP parser; ours go to a session
    const [http, ...others] = this.server.listeners('secureConnection') as Array<(socket: TLSSocket) => void>;
    if (!http || others.length > 0) throw new Error(`node:https changed: expected one 'secureConnection' listener, found ${others.length + (http ? 1 : 0)}`);
    this.server.removeAllListeners('secureConnection');
    this.server.on('secureConnection', (socket: TLSSocket) => {
      if (socket.alpnProtocol !== RPC_ALPN) return http.call(this.server, socket);
      this.#session(socket);
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
    this.server.closeIdleConnections();
    for (const session of this.#sessions) session.goAway();
    if (this.#inFlight > 0) {
      await Promise.race([new Promise<void>((resolve) => (this.#drained = resolve)), sleep(graceMs)]);
    }
    // clients close their connections once told to go away and answered; a moment for that
    if (this.#sessions.size > 0) await Promise.race([Promise.all([...this.#sessions].map((s) => once(s.socket, 'close'))), sleep(200)]);
    this.server.closeAllConnections();
    for (const session of this.#sessions) session.socket.destroy();
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

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
    req.resume();
    send(res, 404, { error: platformError('UNKNOWN_FUNCTION', `no ${req.method} ${url} here; internal calls are POST ${RPC_PREFIX}<function>`).toJSON() });
  }

  async #rpc(req: IncomingMessage, res: ServerResponse, fn: string): Promise<void> {
    const requestId = headerValue(req, HEADER.requestId);
    const id = requestId && REQUEST_ID.test(requestId) ? requestId : randomUUID();
    res.setHeader(HEADER.requestId, id);
    const [status, body] = await this.#serve(
      safeDecode(fn),
      () => void req.socket.destroy(),
      async () => {
        const meta = this.#meta(req, id);
        const text = await readBody(req, this.#bodyLimit);
        try {
          return { meta, input: text.length === 0 ? undefined : JSON.parse(text) };
        } catch {
          throw platformError('MALFORMED_REQUEST', 'the request body is not valid JSON');
        }
      },
    );
    if (res.headersSent || req.socket.destroyed) return;
    if (status === 204) return void res.writeHead(204).end();
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  /** Runs one call of either protocol; the answer as status and JSON body text (empty: no output). */
  async #serve(
    name: string,
    drop: () => void,
    request: () => { meta: CallMeta; input: unknown } | Promise<{ meta: CallMeta; input: unknown }>,
  ): Promise<readonly [number, string]> {
    this.#inFlight++;
    const service = this.#options.service;
    try {
      const requested = request();
      const { meta, input } = requested instanceof Promise ? await requested : requested;
      const plan = installedFaults()?.plan(service, name);
      // no closures per call unless a fault is planned (docs/resilience.md): a drop cuts the connection without an answer
      const output = plan
        ? await withFaults(
            plan,
            service,
            name,
            () => {
              drop();
              throw platformError('UNAVAILABLE', `fault injected: connection to ${service}.${name} dropped`);
            },
            () => this.#options.handler.invoke(name, input, meta),
          )
        : await this.#options.handler.invoke(name, input, meta);
      return output === undefined ? [204, ''] : [200, JSON.stringify(output)];
    } catch (err) {
      const error = isCaroteneError(err) ? err : platformError('INTERNAL', `${service} failed`, { cause: err });
      return [error.status, JSON.stringify({ error: withOrigin(error, service).toJSON() })];
    } finally {
      if (--this.#inFlight === 0) this.#drained?.();
    }
  }

  #meta(req: IncomingMessage, requestId: string): CallMeta {
    const auth = headerValue(req, HEADER.auth);
    return {
      caller: this.#caller(req.socket as TLSSocket),
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

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
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

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
