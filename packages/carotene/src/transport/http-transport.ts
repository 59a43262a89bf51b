import { Pool } from 'undici';
import { CaroteneError, errorFromWire, platformError } from '../errors.ts';
import type { CallMeta, Registry, Transport } from './transport.ts';
import { encodeAuth, HEADER, RPC_PREFIX } from './wire.ts';

export interface HttpTransportOptions {
  /** Name this process calls as. */
  readonly caller: string;
  readonly registry: Registry;
  /** Sockets kept open per callee (default 32). */
  readonly connections?: number;
}

/** Internal calls over HTTP/1.1 with a keep-alive pool per callee. */
export class HttpTransport implements Transport {
  readonly #options: HttpTransportOptions;
  readonly #pools = new Map<string, Pool>();

  constructor(options: HttpTransportOptions) {
    this.#options = options;
  }

  async call(service: string, fn: string, input: unknown, meta: CallMeta): Promise<unknown> {
    const pool = this.#pool(service);
    const remaining = meta.deadline - Date.now();
    if (remaining <= 0) throw platformError('DEADLINE_EXCEEDED', `no time left to call ${service}.${fn}`, { service });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [HEADER.caller]: meta.caller,
      [HEADER.timeout]: String(remaining),
      [HEADER.requestId]: meta.requestId,
    };
    if (meta.auth) headers[HEADER.auth] = encodeAuth(meta.auth);
    if (meta.idempotencyKey) headers[HEADER.idempotencyKey] = meta.idempotencyKey;
    const signal = AbortSignal.timeout(remaining);
    try {
      const res = await pool.request({
        method: 'POST',
        path: RPC_PREFIX + encodeURIComponent(fn),
        headers,
        body: input === undefined ? '' : JSON.stringify(input),
        signal,
      });
      const text = await res.body.text();
      if (res.statusCode === 204) return undefined;
      const body = parseJson(text);
      if (res.statusCode === 200 && body.ok) return body.value;
      throw errorFromWire(body.ok ? body.value : null, res.statusCode, service);
    } catch (err) {
      if (err instanceof CaroteneError) throw err;
      if (signal.aborted) throw platformError('DEADLINE_EXCEEDED', `${service}.${fn} did not answer within ${remaining} ms`, { service });
      const code = (err as { code?: string }).code ?? (err as Error).message;
      throw platformError('UNAVAILABLE', `${service} is unreachable (${code})`, { service, cause: err });
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
    this.#pools.clear();
  }

  #pool(service: string): Pool {
    let pool = this.#pools.get(service);
    if (!pool) {
      const entry = this.#options.registry.services[service];
      if (!entry) throw platformError('UNAVAILABLE', `no address is registered for service '${service}'`, { service });
      pool = new Pool(entry.url, { connections: this.#options.connections ?? 32, keepAliveTimeout: 30_000 });
      this.#pools.set(service, pool);
    }
    return pool;
  }
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
