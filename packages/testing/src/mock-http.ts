import type { HttpIntegration } from 'carotene/model';
import { platformError } from 'carotene/model';
import type { HttpSender } from '@carotene/runtime/service';

/** One request a handler sent to an outside HTTP API, as the harness recorded it. */
export interface RecordedHttpRequest {
  readonly integration: string;
  readonly method: string;
  /** Below the integration's base URL (`/charges`). */
  readonly path: string;
  readonly query: Readonly<Record<string, string | string[]>>;
  /** Names in lower case, `traceparent` and `idempotency-key` among them when sent. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body parsed as JSON when it was sent as JSON. */
  readonly json?: unknown;
  readonly body?: string;
}

/** What a mocked API answers: `json` (sent with `content-type: application/json`) or a `body`. Status 200 unless given. */
export interface HttpMockAnswer {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly json?: unknown;
  readonly body?: string;
}

/**
 * A stand-in for an outside HTTP API: a fixed answer, or a function of the request (throw a
 * CaroteneError, UNAVAILABLE say, to play a network failure).
 */
export type HttpMock = HttpMockAnswer | ((request: RecordedHttpRequest) => HttpMockAnswer | Promise<HttpMockAnswer>);

/**
 * The harness's way out for `ctx.http`: answers from `mocks`, records every request, and
 * refuses an unmocked integration with NOT_MOCKED. Permissions, retries, spans and metrics
 * run as they do in a service.
 */
export function mockHttp(mocks: Readonly<Record<string, HttpMock | undefined>>, recorded: RecordedHttpRequest[]): HttpSender {
  return async (integration: HttpIntegration, request) => {
    const base = new URL(integration.baseUrl).pathname.replace(/\/$/, '');
    const pathname = request.url.pathname;
    const query: Record<string, string | string[]> = {};
    for (const key of new Set(request.url.searchParams.keys())) {
      const all = request.url.searchParams.getAll(key);
      query[key] = all.length === 1 ? all[0]! : all;
    }
    const body = request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : Buffer.from(request.body).toString('utf8');
    const json = request.headers['content-type'] === 'application/json' && body !== undefined ? (JSON.parse(body) as unknown) : undefined;
    const seen: RecordedHttpRequest = {
      integration: integration.name,
      method: request.method,
      path: pathname.startsWith(base) ? pathname.slice(base.length) || '/' : pathname,
      query,
      headers: { ...request.headers },
      ...(json !== undefined ? { json } : body !== undefined ? { body } : {}),
    };
    recorded.push(seen);
    const mock = mocks[integration.name];
    if (mock === undefined) {
      throw platformError(
        'NOT_MOCKED',
        `the test sent ${request.method} ${seen.path} to ${integration.name}, which it did not mock: add mock: { ${integration.name}: { status, json } }`,
        { service: integration.name },
      );
    }
    const answer = typeof mock === 'function' ? await mock(seen) : mock;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(answer.headers ?? {})) headers[name.toLowerCase()] = value;
    if (answer.json !== undefined) headers['content-type'] ??= 'application/json';
    const text = answer.json !== undefined ? JSON.stringify(answer.json) : (answer.body ?? '');
    return { status: answer.status ?? 200, headers, body: Buffer.from(text, 'utf8') };
  };
}
