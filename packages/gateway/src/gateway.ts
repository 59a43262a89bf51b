import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AppDef, RateLimitRule } from 'carotene/model';
import type { PublicRoute } from 'carotene/model';
import { loadEngine, platformError, type CaroteneError } from 'carotene/model';
import { createLogger, type Logger } from '@carotene/runtime/service';
import type { CallMeta, Transport } from '@carotene/runtime/transport';
import { checkUrlLength, clientErrorHandler, resolveLimits, serverOptions } from './client-limits.ts';
import { ConnectionAnswers } from './connection-answers.ts';
import { corsHandler } from './cors.ts';
import { errorBody, retryAfterSeconds, toCaroteneError } from './error-reply.ts';
import { createTokenVerifier, type TokenVerifier } from './jwt.ts';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id.ts';
import { checkRequestHead } from './request-head.ts';
import { assertAuthConfigured, authenticate } from './route-auth.ts';
import { rateLimitHeaders, ruleFor, type RateDecision, type RateLimiter, type RedisEngine } from './rate-limit.ts';
import { MemoryRateLimiter } from './rate-limit-memory.ts';
import { routeInput } from './route-input.ts';
import { gatewayDuration, gatewayRequests, METRICS_CONTENT_TYPE, renderMetrics } from '@carotene/runtime/telemetry';
import { endSpan, headersOf, isSpanContextValid, SpanKind, startRemoteChild, withSpan, type Span } from '@carotene/runtime/telemetry';
import { type TraceHeaders, traceHeadersOf } from '@carotene/runtime/telemetry';

const DEFAULT_BODY_LIMIT = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;
/** Lets the transport report its own, more precise, timeout before the gateway gives up. */
const DEADLINE_GRACE_MS = 250;
const JSON_TYPE = 'application/json; charset=utf-8';
/** The gateway's own endpoints; no service route may take them. */
const PROBES: readonly string[] = ['/health', '/ready', '/metrics'];

export interface CreateGatewayOptions {
  readonly app: AppDef;
  /** How public requests reach the services. The gateway does not close it. */
  readonly transport: Transport;
  /** Receives one access line per request and every failure (default: JSON on stdout). */
  readonly logger?: Logger;
  /** Clock for deadlines and token validity (default `Date.now`). */
  readonly now?: () => number;
  /**
   * Buckets for `app.gateway.rateLimit` (default: in memory, or in Redis when the app names
   * one). A limiter passed here is not closed by the gateway.
   */
  readonly rateLimiter?: RateLimiter;
}

/** A gateway ready to listen: the only public listener of a Carotene app. */
export interface Gateway {
  /** The HTTP server, e.g. for `server.inject(...)` in tests. */
  readonly server: FastifyInstance;
  /** Starts listening; resolves with the URL it listens on. */
  listen(host: string, port: number): Promise<string>;
  /** Stops accepting requests, lets in-flight ones finish, then resolves. */
  close(): Promise<void>;
}

/**
 * Builds the gateway of an app: one HTTP route per public route its services declare, each
 * forwarded over `transport` to the function that owns it, with the end user's verified
 * token (when the route asks for one), a request id, a deadline, and JSON errors.
 *
 * ```ts
 * const gateway = createGateway({ app: shop, transport });
 * const url = await gateway.listen('127.0.0.1', 8080);
 * ```
 */
export function createGateway(options: CreateGatewayOptions): Gateway {
  const { app, transport } = options;
  const now = options.now ?? Date.now;
  const log = options.logger ?? createLogger('gateway');
  const bodyLimit = app.gateway.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const timeoutMs = app.gateway.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const routes = app.services.flatMap((s) => s.routes);
  const limits = resolveLimits(app.gateway.limits);
  const rateLimit = app.gateway.rateLimit;
  const ownLimiter = rateLimit && !options.rateLimiter ? createLimiter(rateLimit.redis) : undefined;
  const limiter = options.rateLimiter ?? ownLimiter;
  const cors = app.gateway.cors && corsHandler(app.gateway.cors, [...routes.map((r) => r.method), 'OPTIONS']);
  assertAuthConfigured(app);
  for (const route of routes) {
    if (PROBES.includes(route.path)) {
      throw platformError(
        'INVALID_CONFIG',
        `route '${route.method} ${route.path}' of ${route.service}.${route.function} collides with the gateway's own ${route.path}; choose another path`,
        {
          service: 'gateway',
        },
      );
    }
  }

  const auth = app.gateway.auth;
  const verifier: TokenVerifier | undefined =
    auth &&
    createTokenVerifier({
      auth,
      now,
      fetchKeys: (requestId) => transport.call(auth.jwks.service, auth.jwks.function, {}, { caller: 'gateway', requestId, deadline: now() + timeoutMs }),
      onStaleKeys: (err) => log.warn({ err }, 'token keys could not be refreshed; the cached keys keep serving'),
      keysTtlMs: auth.keysTtlMs,
      unknownKeyCooldownMs: auth.unknownKeyCooldownMs,
    });

  // the app name is the user's; keep the header value printable and unquoted
  const challenge = `Bearer realm="${app.name.replace(/[^\x20-\x7e]|"/g, '')}"`;
  let state: 'idle' | 'listening' | 'closing' = 'idle';
  /** The error each failed request was answered with, for its access line. */
  const failures = new WeakMap<FastifyRequest, CaroteneError>();
  /** The request's span and the trace headers that continue it, made once per request. */
  const traced = new WeakMap<FastifyRequest, { span: Span; trace: TraceHeaders }>();
  const answers = new ConnectionAnswers();

  const server = Fastify({
    logger: false,
    bodyLimit,
    genReqId: (req) => requestIdFrom(req.headers[REQUEST_ID_HEADER]),
    // a HEAD must not run a function that may have effects
    exposeHeadRoutes: false,
    // the onRequest hook answers during shutdown instead, with a Carotene error body
    return503OnClosing: false,
    // slow and oversized clients: node enforces these, and clientErrorHandler answers in JSON
    http: serverOptions(limits),
    requestTimeout: limits.requestTimeoutMs,
    clientErrorHandler: clientErrorHandler(answers),
  });
  answers.watch(server.server);
  // JSON bodies only; anything else is answered 415
  server.removeContentTypeParser('text/plain');

  const sendError = (request: FastifyRequest, reply: FastifyReply, err: CaroteneError): FastifyReply => {
    failures.set(request, err);
    if (err.code === 'UNAUTHENTICATED') reply.header('www-authenticate', challenge);
    const retryAfter = retryAfterSeconds(err);
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    const status = err.status >= 400 && err.status <= 599 ? err.status : 500;
    return reply
      .code(status)
      .type(JSON_TYPE)
      .send(JSON.stringify(errorBody(err, request.id)));
  };

  // Hooks in callback style: an async hook costs a promise and a microtask per request.
  server.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    const probe = PROBES.includes(pathOf(request.url));
    if (!probe) {
      const carried = traceHeadersOf(request.headers.traceparent, request.headers.tracestate);
      const span = requestSpan(request, carried);
      const trace = headersOf(span, carried);
      traced.set(request, { span, trace });
      if (trace.traceparent) reply.header(TRACE_RESPONSE_HEADER, trace.traceparent);
    }
    try {
      if (state === 'closing' && !probe) throw platformError('UNAVAILABLE', 'The gateway is shutting down; retry the request', { service: 'gateway' });
      checkRequestHead(request.raw, reply);
      checkUrlLength(request.url, limits.maxUrlLength);
      // a preflight was answered: the request goes no further (done is not called)
      if (cors?.(request, reply)) return;
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  });

  // in-flight answers during shutdown close their connection, or keep-alive would hold close() open
  server.addHook('onSend', (_request, reply, payload, done) => {
    if (state === 'closing') reply.header('connection', 'close');
    done(null, payload);
  });

  server.addHook('onResponse', (request, reply, done) => {
    const failure = failures.get(request);
    const code = failure?.code;
    const span = traced.get(request)?.span;
    const route = request.is404 ? null : (request.routeOptions.url ?? null);
    const status = reply.statusCode;
    if (span) {
      span.setAttribute('http.response.status_code', status);
      endSpan(span, status >= 500 ? { code, message: `status ${status}` } : undefined);
      gatewayRequests.inc({ method: request.method, route: route ?? 'unmatched', status: String(status) });
      gatewayDuration.observe({ method: request.method, route: route ?? 'unmatched' }, reply.elapsedTime / 1000);
    }
    const ids = span?.spanContext();
    const line: Record<string, unknown> = {
      method: request.method,
      route,
      path: pathOf(request.url),
      status,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
      requestId: request.id,
    };
    // the real message, for the log only: a public client may have been shown a generic one
    if (failure) Object.assign(line, { error: failure.code, message: failure.message });
    // the access line is written after the span ended: name it explicitly
    if (ids && isSpanContextValid(ids)) {
      line['trace_id'] = ids.traceId;
      line['span_id'] = ids.spanId;
    }
    if (status >= 500) log.error(line, 'request');
    else log.info(line, 'request');
    done();
  });

  server.setErrorHandler((thrown: unknown, request, reply) => {
    const [err, unexpected] = toCaroteneError(thrown, { bodyLimit, contentType: request.headers['content-type'] });
    if (unexpected) {
      log.error({ err: thrown, requestId: request.id }, 'unexpected error while serving a request');
    } else if (err.code === 'CLIENT_DISCONNECTED') {
      // the client's doing, and common (a closed tab, a cancelled upload): not an error of ours
      log.info({ requestId: request.id, code: err.code, method: request.method, path: pathOf(request.url) }, 'client gone before its request body arrived');
    } else if (err.status >= 500) {
      log.warn({ requestId: request.id, code: err.code, callee: err.service, message: err.message, cause: causeOf(err) }, 'request failed');
    }
    return sendError(request, reply, err);
  });

  server.setNotFoundHandler((request, reply) =>
    sendError(request, reply, platformError('ROUTE_NOT_FOUND', `No route ${request.method} ${clip(pathOf(request.url))}`, { service: 'gateway' })),
  );

  server.get('/health', async () => ({ status: 'ok' }));
  // for a scraper next to the gateway; a request that came through a proxy (the Ingress) is refused
  server.get('/metrics', async (request, reply) => {
    if (request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined) {
      return sendError(request, reply, platformError('ROUTE_NOT_FOUND', 'No route GET /metrics', { service: 'gateway' }));
    }
    return reply.type(METRICS_CONTENT_TYPE).send(await renderMetrics());
  });
  server.get('/ready', async (_request, reply) =>
    state === 'listening' ? { status: 'ok' } : reply.code(503).send({ status: state === 'idle' ? 'starting' : 'stopping' }),
  );

  const forward = async (route: PublicRoute, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    // authentication first: an anonymous client learns nothing about what input is accepted
    // a public, unlimited route awaits neither step
    const claims = route.auth === 'none' ? undefined : await authenticate(route, request.headers.authorization, verifier, request.id);
    const rule = rules.get(route);
    if (rule) await limitRate(route, rule, claims?.sub, request, reply);
    const input = routeInput(request.query, request.body, request.params);
    const { span, trace } = traced.get(request) ?? {};
    const meta: CallMeta = { caller: 'gateway', requestId: request.id, deadline: now() + timeoutMs, auth: claims, ...trace };
    const call = () => transport.call(route.service, route.function, input, meta);
    const output = await withinDeadline(span ? withSpan(span, call) : call(), timeoutMs);
    reply.code(route.status);
    if (route.status === 204) return reply.send();
    // serialized here so that a string output is still sent as JSON, not as text
    return reply.type(JSON_TYPE).send(JSON.stringify(output ?? null));
  };
  // per route and client: the verified user when there is one, else the address
  const limitRate = async (route: PublicRoute, rule: RateLimitRule, user: string | undefined, request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!limiter) return;
    const client = user === undefined ? `ip:${request.ip}` : `user:${user}`;
    let decision: RateDecision;
    try {
      decision = await limiter.take(`${route.method} ${route.path}|${client}`, rule);
    } catch (err) {
      // a limiter that cannot answer must not take the API down with it
      log.warn({ err, requestId: request.id }, 'rate limiter unavailable; the request is let through');
      return;
    }
    reply.headers(rateLimitHeaders(decision));
    if (!decision.allowed) {
      throw platformError('RATE_LIMITED', `Too many requests to ${route.method} ${route.path}; retry in ${decision.retryAfterSeconds} s`, {
        service: 'gateway',
      });
    }
  };

  // each route's rate limit, looked up once; routes without one are not in the map
  const rules = new Map<PublicRoute, RateLimitRule>();
  for (const route of routes) {
    const rule = limiter && rateLimit && ruleFor(route, rateLimit);
    if (rule) rules.set(route, rule);
  }
  for (const route of routes) {
    server.route({ method: route.method, url: route.path, handler: (request, reply) => forward(route, request, reply) });
  }

  let closed: Promise<void> | undefined;
  return {
    server,
    async listen(host, port) {
      const url = await server.listen({ host, port });
      state = 'listening';
      return url;
    },
    close() {
      state = 'closing';
      closed ??= server.close().finally(() => ownLimiter?.close());
      return closed;
    },
  };
}

/** W3C Trace Context Level 2: tells the client which trace its request became. */
const TRACE_RESPONSE_HEADER = 'traceresponse';

/**
 * The span of one public request: it continues a valid incoming `traceparent` (with its
 * `tracestate`, bounded to the spec's limits) and starts a new trace otherwise.
 */
function requestSpan(request: FastifyRequest, carried: TraceHeaders): Span {
  const route = request.routeOptions.url;
  return startRemoteChild(`${request.method} ${route ?? 'unmatched'}`, SpanKind.SERVER, carried, {
    'carotene.service': 'gateway',
    'http.request.method': request.method,
    'url.path': pathOf(request.url),
    ...(route ? { 'http.route': route } : {}),
    'carotene.request_id': request.id,
  });
}

function createLimiter(redis: { url: string; prefix?: string } | undefined): RateLimiter {
  if (!redis) return new MemoryRateLimiter();
  // an optional engine: a gateway limiting in memory never installs or loads it
  const loaded = loadEngine<RedisEngine>('@carotene/redis', 'rate limits in Redis (gateway.rateLimit.redis)').then(
    ({ RedisRateLimiter }) => new RedisRateLimiter({ url: redis.url, prefix: redis.prefix }),
  );
  return {
    take: async (key, rule) => (await loaded).take(key, rule),
    close: async () => (await loaded.catch(() => undefined))?.close(),
  };
}

/** Backstop in case the transport does not honour the deadline itself. */
async function withinDeadline<T>(call: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(platformError('DEADLINE_EXCEEDED', `The request did not complete within ${timeoutMs} ms`, { service: 'gateway' })),
      timeoutMs + DEADLINE_GRACE_MS,
    );
  });
  try {
    return await Promise.race([call, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function causeOf(err: CaroteneError): string | undefined {
  const cause = err.cause;
  if (cause === undefined) return undefined;
  const inner = cause instanceof Error && cause.cause !== undefined ? `: ${String(cause.cause instanceof Error ? cause.cause.message : cause.cause)}` : '';
  return `${cause instanceof Error ? cause.message : String(cause)}${inner}`;
}
