import { platformError } from 'carotene/model';

/** What the API explorer asks to send through the gateway. */
export interface GatewayCall {
  readonly method: string;
  /** Path and query, e.g. `/api/products?limit=5`. */
  readonly path: string;
  /** A bearer token, sent as `authorization: Bearer <token>`. */
  readonly token?: string;
  /** JSON body for POST, PUT and PATCH. */
  readonly body?: unknown;
}

export interface GatewayAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed JSON when the answer was JSON, else its text. */
  readonly body: unknown;
  readonly durationMs: number;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const SHOWN_HEADERS = ['content-type', 'x-request-id', 'retry-after', 'traceparent', 'www-authenticate', 'ratelimit-remaining'];

/**
 * Sends one request of the API explorer to the gateway, as a client of the app would, and
 * returns what came back. The path must stay on the gateway: anything else is INVALID_INPUT.
 *
 * ```ts
 * await callGateway('http://127.0.0.1:8080', { method: 'GET', path: '/api/products?limit=5' });
 * ```
 */
export async function callGateway(gatewayUrl: string, call: GatewayCall): Promise<GatewayAnswer> {
  const method = String(call.method ?? '').toUpperCase();
  if (!METHODS.has(method)) throw platformError('INVALID_INPUT', `method must be one of ${[...METHODS].join(', ')}, got '${call.method}'`);
  if (typeof call.path !== 'string' || !call.path.startsWith('/') || call.path.startsWith('//')) {
    throw platformError('INVALID_INPUT', `path must start with one '/', got '${String(call.path)}'`);
  }
  const target = new URL(call.path, gatewayUrl);
  if (target.origin !== new URL(gatewayUrl).origin) throw platformError('INVALID_INPUT', 'the explorer only calls the gateway');
  const headers: Record<string, string> = { accept: 'application/json' };
  if (call.token) headers.authorization = `Bearer ${call.token.replace(/^Bearer\s+/i, '').trim()}`;
  const hasBody = call.body !== undefined && method !== 'GET' && method !== 'DELETE';
  if (hasBody) headers['content-type'] = 'application/json';
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(target, {
      method,
      headers,
      body: hasBody ? JSON.stringify(call.body) : undefined,
      signal: AbortSignal.timeout(30_000),
      redirect: 'manual',
    });
  } catch (err) {
    throw platformError('UNAVAILABLE', `the gateway at ${gatewayUrl} did not answer: ${(err as Error).message}`);
  }
  const text = await res.text();
  const durationMs = Math.round((performance.now() - started) * 10) / 10;
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      // keep the text: a broken JSON answer is worth seeing as it is
    }
  }
  const shown: Record<string, string> = {};
  for (const h of SHOWN_HEADERS) {
    const v = res.headers.get(h);
    if (v !== null) shown[h] = v;
  }
  return { status: res.status, headers: shown, body, durationMs };
}
