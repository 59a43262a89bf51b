import type { HttpClient, HttpIntegration, HttpQuery, HttpRequestOptions, HttpResponse } from 'carotene/model';
import { type CaroteneError, permittedCalls, platformError } from 'carotene/model';
import { installedCallPolicies } from '../resilience/call-policies.ts';
import { installedFaults, withFaults } from '../resilience/fault-injector.ts';
import { observedHttp } from '../telemetry/observed-http.ts';
import { type OutboundRequest, type OutboundResponse, sendOutbound } from '../transport/outbound-http.ts';
import type { CallMeta } from '../transport/transport.ts';
import { DEFAULT_CALL_TIMEOUT_MS } from './call-clients.ts';

/**
 * How a request leaves the process: over the network (`sendOutbound`), or to a test's
 * mock. Everything around it (permissions, policies, faults, spans, metrics) stays the same.
 */
export type HttpSender = (integration: HttpIntegration, request: OutboundRequest) => Promise<OutboundResponse>;

const networkSender: HttpSender = (_integration, request) => sendOutbound(request);

/** RFC 9110's idempotent methods: repeating one has the effect of sending it once. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const METHODS = new Set([...IDEMPOTENT, 'POST', 'PATCH']);
/** Answers that say the API is in trouble: counted by the breaker; 502-504 are retried like UNAVAILABLE. */
const RETRYABLE_STATUS = new Set([502, 503, 504]);

/** `CAROTENE_HTTP_CARD_PROVIDER_URL` for `cardProvider`: where a process may point an integration instead. */
export function baseUrlVariable(name: string): string {
  return `CAROTENE_HTTP_${name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}_URL`;
}

/** The base URL of `integration` in this process: the declared one, unless the environment points it elsewhere. */
export function baseUrlOf(integration: HttpIntegration, env: NodeJS.ProcessEnv = process.env): URL {
  const variable = baseUrlVariable(integration.name);
  const override = env[variable];
  if (override === undefined || override === '') return new URL(integration.baseUrl);
  let url: URL;
  try {
    url = new URL(override);
  } catch {
    throw platformError('INVALID_CONFIG', `${variable}='${override}' is not an absolute URL`, { service: integration.name });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw platformError('INVALID_CONFIG', `${variable} must be an http: or https: URL, not ${url.protocol}`, { service: integration.name });
  }
  return url;
}

/**
 * Sends one request to an outside API the way `ctx.call` calls a service: the request is
 * checked before it leaves, each attempt runs under the integration's policy (timeout within
 * the caller's deadline, retries only for an idempotent method or with an idempotency key,
 * one breaker per integration), faults from the faults file apply, and one client span with
 * its `traceparent`/`tracestate` headers and one metric sample cover it all.
 */
export async function callHttp(
  integration: HttpIntegration,
  method: string,
  path: string,
  options: HttpRequestOptions,
  meta: CallMeta,
  self: string,
  send: HttpSender = networkSender,
): Promise<HttpResponse> {
  const verb = method.toUpperCase();
  const base = baseUrlOf(integration);
  const url = requestUrl(integration.name, base, path, options.query);
  const where = `${integration.name} (${verb} ${url.pathname})`;
  if (!METHODS.has(verb))
    throw invalid(integration, `${verb} is not a method ${integration.name} can be called with (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)`);
  if (options.json !== undefined && options.body !== undefined) throw invalid(integration, `${where}: give json or body, not both`);
  const body = options.json !== undefined ? JSON.stringify(options.json) : options.body;
  if (body !== undefined && (verb === 'GET' || verb === 'HEAD')) throw invalid(integration, `${where}: a ${verb} request has no body`);
  const fixed = headersFor(integration, options, body !== undefined && options.json !== undefined);
  const res = await observedHttp({ service: self, integration: integration.name, method: verb, url }, meta, (trace) => {
    const headers = {
      ...fixed,
      ...(trace.traceparent ? { traceparent: trace.traceparent } : {}),
      ...(trace.tracestate ? { tracestate: trace.tracestate } : {}),
    };
    const attempt = async (deadline: number): Promise<OutboundResponse> => {
      const request: OutboundRequest = { target: integration.name, url, method: verb, headers, body, deadline, maxResponseBytes: integration.maxResponseBytes };
      const answer = await withFaults(installedFaults()?.plan(integration.name, verb), integration.name, verb, dropped(integration.name, where), () =>
        send(integration, request),
      );
      return failIfInTrouble(answer, integration.name, where);
    };
    const timeoutMs = options.timeoutMs ?? integration.timeoutMs;
    const policies = installedCallPolicies();
    const sent = policies
      ? policies.call(
          {
            caller: self,
            callee: integration.name,
            fn: verb,
            idempotent: IDEMPOTENT.has(verb) || options.idempotencyKey !== undefined,
            deadline: meta.deadline,
            timeoutMs,
          },
          attempt,
        )
      : attempt(Math.min(meta.deadline, Date.now() + (timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS)));
    // an answer the policies treated as a failure is still the API's answer, once they gave up
    return sent.catch((err: unknown) => {
      const answer = (err as { response?: OutboundResponse }).response;
      if (answer) return answer;
      throw err;
    });
  });
  return responseOf(res, integration.name, where);
}

/**
 * `ctx.http` for one invocation: a client per declared HTTP integration, any other name
 * refused with PERMISSION_DENIED naming `owner`.
 */
export function createHttpAccess(
  integrations: readonly HttpIntegration[],
  meta: CallMeta,
  self: string,
  owner: string,
  declarer: "handler's" | "saga's",
  send?: HttpSender,
): object {
  const clients = new Map<string, HttpClient>();
  for (const integration of integrations) {
    const request = (method: string, path: string, options: HttpRequestOptions = {}) => callHttp(integration, method, path, options, meta, self, send);
    clients.set(integration.name, {
      request,
      get: (path, options) => request('GET', path, options),
      head: (path, options) => request('HEAD', path, options),
      post: (path, options) => request('POST', path, options),
      put: (path, options) => request('PUT', path, options),
      patch: (path, options) => request('PATCH', path, options),
      delete: (path, options) => request('DELETE', path, options),
    });
  }
  return permittedCalls(clients, owner, declarer, 'http');
}

function invalid(integration: HttpIntegration, message: string): CaroteneError {
  return platformError('INVALID_INPUT', message, { service: integration.name });
}

/** The base URL with `path` below it; a path that would climb out of the base, or name another host, is refused. */
function requestUrl(name: string, base: URL, path: string, query: HttpQuery | undefined): URL {
  if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) {
    throw platformError('INVALID_INPUT', `${name}: the path '${String(path)}' must start with a single '/'`, { service: name });
  }
  if (/[?#]/.test(path)) throw platformError('INVALID_INPUT', `${name}: give the query of '${path}' as the query option`, { service: name });
  if (path.split('/').some((segment) => segment === '..' || segment === '.' || /%2e%2e/i.test(segment))) {
    throw platformError('INVALID_INPUT', `${name}: the path '${path}' may not contain '.' or '..' segments`, { service: name });
  }
  const url = new URL(`${base.pathname.replace(/\/$/, '')}${path}`, base.origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(v));
  }
  return url;
}

function headersFor(integration: HttpIntegration, options: HttpRequestOptions, json: boolean): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': 'carotene', accept: 'application/json, */*;q=0.5' };
  if (json) headers['content-type'] = 'application/json';
  for (const [name, value] of Object.entries(integration.headers)) headers[name.toLowerCase()] = typeof value === 'function' ? value() : value;
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
  if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
  for (const [name, value] of Object.entries(headers)) {
    if (!/^[!#$%&'*+\-.^_`|~\w]+$/.test(name) || /[\r\n\0]/.test(String(value))) {
      throw invalid(integration, `${integration.name}: the header '${name}' is not a valid HTTP header`);
    }
  }
  return headers;
}

/** A dropped connection, as the `drop` fault makes it look. */
function dropped(name: string, where: string): () => never {
  return () => {
    throw platformError('UNAVAILABLE', `${where}: the connection closed before the answer came (fault injected)`, {
      service: name,
      details: { reason: 'reset', injected: true },
    });
  };
}

/** A 500, 502, 503 or 504 becomes a failure the policies see, carrying the answer for when they give up. */
function failIfInTrouble(answer: OutboundResponse, name: string, where: string): OutboundResponse {
  if (answer.status < 500) return answer;
  const code = RETRYABLE_STATUS.has(answer.status) ? 'UNAVAILABLE' : 'INTERNAL';
  const err = platformError(code, `${where} answered HTTP ${answer.status}`, { service: name, details: { reason: 'status', status: answer.status } });
  Object.defineProperty(err, 'response', { value: answer, enumerable: false });
  throw err;
}

function responseOf(res: OutboundResponse, name: string, where: string): HttpResponse {
  let text: string | undefined;
  const read = () => (text ??= res.body.toString('utf8'));
  return {
    status: res.status,
    ok: res.status >= 200 && res.status < 300,
    headers: res.headers,
    text: read,
    json<T>(): T {
      try {
        return JSON.parse(read()) as T;
      } catch (err) {
        throw platformError('UPSTREAM_ERROR', `${where} answered HTTP ${res.status} with a body that is not JSON`, {
          service: name,
          details: { reason: 'invalid-json', status: res.status, contentType: res.headers['content-type'] },
          cause: err,
        });
      }
    },
  };
}
