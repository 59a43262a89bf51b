/** A header value, or a function read on every request (for a secret from the environment). */
export type HttpHeaderValue = string | (() => string);

/** What {@link http} takes. */
export interface HttpOptions {
  /**
   * Where the API lives: an absolute `http:` or `https:` URL, perhaps with a path prefix
   * (`https://api.cards.example/v2`). `carrot build` derives the service's egress
   * NetworkPolicy from it. A process may point it elsewhere (a simulator, a sandbox) with
   * `CAROTENE_HTTP_<NAME>_URL` (`CAROTENE_HTTP_CARD_PROVIDER_URL` for `cardProvider`).
   */
  readonly baseUrl: string;
  /** Time one attempt may take, in milliseconds (default: the resilience policy's, 5 s); never past the caller's deadline. */
  readonly timeoutMs?: number;
  /** Headers sent with every request; a request's own headers win. */
  readonly headers?: Readonly<Record<string, HttpHeaderValue>>;
  /** The largest response body read, in bytes (default 1 MiB); a larger one fails with UPSTREAM_ERROR. */
  readonly maxResponseBytes?: number;
}

/** An outside HTTP API a service may call, as {@link http} declares it. */
export interface HttpIntegration<N extends string = string> {
  readonly kind: 'http';
  readonly name: N;
  readonly baseUrl: string;
  readonly timeoutMs: number | undefined;
  readonly headers: Readonly<Record<string, HttpHeaderValue>>;
  readonly maxResponseBytes: number;
}

/** Query parameters; an array repeats the name, `undefined` leaves it out. */
export type HttpQuery = Readonly<Record<string, string | number | boolean | undefined | readonly (string | number | boolean)[]>>;

/** What one request may carry besides its method and path. */
export interface HttpRequestOptions {
  /** A body sent as JSON (`content-type: application/json`). */
  readonly json?: unknown;
  /** A body sent as it is (give its `content-type` in `headers`). Not with `json`. */
  readonly body?: string | Uint8Array;
  readonly query?: HttpQuery;
  readonly headers?: Readonly<Record<string, string>>;
  /** Time this request's attempt may take, in milliseconds; never past the caller's deadline. */
  readonly timeoutMs?: number;
  /**
   * Sent as `Idempotency-Key`: the API may then apply a repeated request once, so Carotene
   * retries it after a failure even when the method is not idempotent (POST, PATCH).
   */
  readonly idempotencyKey?: string;
}

/** An answer, whatever its status: a 4xx or 5xx is the API's word, not an exception. */
export interface HttpResponse {
  readonly status: number;
  /** `status` is 2xx. */
  readonly ok: boolean;
  /** Response headers, names in lower case (repeated ones joined by `, `). */
  readonly headers: Readonly<Record<string, string>>;
  /** The body as UTF-8 text. */
  text(): string;
  /** The body parsed as JSON; UPSTREAM_ERROR when it is not JSON. */
  json<T = unknown>(): T;
}

/** `ctx.http.<name>`: one method per HTTP verb, each taking a path relative to the base URL. */
export interface HttpClient {
  request(method: string, path: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  get(path: string, options?: Omit<HttpRequestOptions, 'json' | 'body'>): Promise<HttpResponse>;
  head(path: string, options?: Omit<HttpRequestOptions, 'json' | 'body'>): Promise<HttpResponse>;
  post(path: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  put(path: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  patch(path: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  delete(path: string, options?: HttpRequestOptions): Promise<HttpResponse>;
}

/** Integration names are identifiers, as `ctx.http.<name>` uses them. */
const NAME = /^[a-z][A-Za-z0-9]{0,40}$/;
const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * Declares an outside HTTP API (a card provider, a mail service). List it in the service's
 * `integrations` and in the `calls` of each handler that uses it; the handler reaches it as
 * `ctx.http.<name>`, with the timeouts, retries and breaker of internal calls, a client span
 * whose `traceparent` goes with the request, and metrics.
 *
 * ```ts
 * export const CardProvider = http('cardProvider', { baseUrl: 'https://api.cards.example/v2', timeoutMs: 2_000,
 *   headers: { authorization: () => `Bearer ${process.env.CARD_API_KEY}` } });
 * const res = await ctx.http.cardProvider.post('/charges', { json: { amount }, idempotencyKey: orderId });
 * ```
 */
export function http<const N extends string>(name: N, options: HttpOptions): HttpIntegration<N> {
  if (!NAME.test(name)) throw new TypeError(`http integration name '${name}' must be an identifier: a lower-case letter, then letters and digits`);
  let url: URL;
  try {
    url = new URL(options.baseUrl);
  } catch {
    throw new TypeError(`http integration '${name}': baseUrl '${options.baseUrl}' is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TypeError(`http integration '${name}': baseUrl must be http: or https:, not ${url.protocol}`);
  if (url.username || url.password) throw new TypeError(`http integration '${name}': put credentials in headers, not in baseUrl`);
  if (url.search || url.hash) throw new TypeError(`http integration '${name}': baseUrl may not have a query or fragment`);
  if (options.timeoutMs !== undefined && !(Number.isInteger(options.timeoutMs) && options.timeoutMs > 0 && options.timeoutMs <= 300_000)) {
    throw new TypeError(`http integration '${name}': timeoutMs must be a whole number of milliseconds from 1 to 300000`);
  }
  const max = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!(Number.isInteger(max) && max > 0)) throw new TypeError(`http integration '${name}': maxResponseBytes must be a positive whole number`);
  return {
    kind: 'http',
    name,
    baseUrl: url.href.replace(/\/$/, ''),
    timeoutMs: options.timeoutMs,
    headers: options.headers ?? {},
    maxResponseBytes: max,
  };
}

/** True for an HTTP integration (the service's integrations mix them with contracts). */
export function isHttpIntegration(value: unknown): value is HttpIntegration {
  return (value as { kind?: unknown } | null)?.kind === 'http';
}
