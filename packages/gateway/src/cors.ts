import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CorsOptions } from 'carotene/model';
import { platformError } from 'carotene/model';

// traceparent/tracestate: a browser app that traces may continue its trace through the gateway
const DEFAULT_HEADERS = ['authorization', 'content-type', 'x-request-id', 'traceparent', 'tracestate'];
/** Response headers a browser script may read. */
const EXPOSED = ['x-request-id', 'traceresponse', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'retry-after'].join(', ');

/**
 * Cross-origin access for one app, as an `onRequest` step: adds the CORS headers to
 * answers for allowed origins and answers preflights (`OPTIONS` with
 * `Access-Control-Request-Method`) itself, 204 for an allowed origin and 403 with a JSON
 * error for any other. Resolves true when it answered.
 *
 * ```ts
 * const cors = corsHandler({ origins: ['https://shop.example'] }, methods);
 * server.addHook('onRequest', async (req, reply) => { if (cors(req, reply)) return reply; });
 * ```
 */
export function corsHandler(options: CorsOptions, methods: readonly string[]): (request: FastifyRequest, reply: FastifyReply) => boolean {
  const any = options.origins === '*';
  const allowed = new Set(any ? [] : options.origins);
  const credentials = options.credentials === true && !any;
  const headers = (options.headers ?? DEFAULT_HEADERS).join(', ');
  const allowMethods = [...new Set(methods)].join(', ');
  const maxAge = String(options.maxAgeSeconds ?? 600);

  return (request, reply) => {
    const origin = request.headers.origin;
    const preflight = request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
    if (origin === undefined) return false;
    reply.header('vary', 'Origin');
    const ok = any || allowed.has(origin);
    if (!ok) {
      if (!preflight) return false; // the browser withholds the answer; nothing to add
      throw platformError('FORBIDDEN', `Origin '${origin.slice(0, 100)}' may not call this API`, { service: 'gateway' });
    }
    reply.header('access-control-allow-origin', any ? '*' : origin);
    if (credentials) reply.header('access-control-allow-credentials', 'true');
    if (!preflight) {
      reply.header('access-control-expose-headers', EXPOSED);
      return false;
    }
    reply.header('access-control-allow-methods', allowMethods);
    reply.header('access-control-allow-headers', headers);
    reply.header('access-control-max-age', maxAge);
    void reply.code(204).send();
    return true;
  };
}
