import type { PeerCertificate } from 'node:tls';
import { Pool } from 'undici';
import { CaroteneError, errorFromWire, platformError } from '../errors.ts';
import type { CredentialSource } from '../security/credentials.ts';
import { identityFromSan, spiffeId } from '../security/identity.ts';
import type { CallMeta, Registry, Transport } from './transport.ts';
import { encodeAuth, HEADER, RPC_PREFIX } from './wire.ts';

export interface HttpTransportOptions {
  /** Name this process calls as. */
  readonly caller: string;
  readonly registry: Registry;
  /** Sockets kept open per callee (default 32). */
  readonly connections?: number;
  /** This process's certificate and key (its identity is `caller`), and the CAs it trusts. */
  readonly tls: CredentialSource;
}

/**
 * Internal calls over HTTPS/1.1 with mutual TLS 1.3 and a keep-alive pool per callee. The
 * client presents its own certificate and accepts the callee only if the callee's
 * certificate names the identity it meant to call (`spiffe://<app>/<service>`), so a
 * registry pointing at the wrong process cannot receive the call. When the credentials
 * rotate, pools are rebuilt: calls in flight finish on the old connections.
 */
export class HttpTransport implements Transport {
  readonly #options: HttpTransportOptions;
  readonly #pools = new Map<string, Pool>();
  readonly #unsubscribe: () => void;

  constructor(options: HttpTransportOptions) {
    this.#options = options;
    this.#unsubscribe = options.tls.onChange(() => {
      const old = [...this.#pools.values()];
      this.#pools.clear();
      for (const pool of old) void pool.close().catch(() => undefined);
    });
  }

  async call(service: string, fn: string, input: unknown, meta: CallMeta): Promise<unknown> {
    const pool = this.#pool(service);
    const remaining = meta.deadline - Date.now();
    if (remaining <= 0) throw platformError('DEADLINE_EXCEEDED', `no time left to call ${service}.${fn}`, { service });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
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
      const reason = code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /is not spiffe:/.test((err as Error).message) ? `${code}: ${(err as Error).message}` : code;
      throw platformError('UNAVAILABLE', `${service} is unreachable (${reason})`, { service, cause: err });
    }
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
    this.#pools.clear();
  }

  #pool(service: string): Pool {
    let pool = this.#pools.get(service);
    if (!pool) {
      const entry = this.#options.registry.services[service];
      if (!entry) throw platformError('UNAVAILABLE', `no address is registered for service '${service}'`, { service });
      const { ca, cert, key } = this.#options.tls.current();
      const expected = spiffeId(this.#options.registry.app, service);
      const app = this.#options.registry.app;
      pool = new Pool(entry.url, {
        connections: this.#options.connections ?? 32,
        keepAliveTimeout: 30_000,
        connect: {
          ca,
          cert,
          key,
          minVersion: 'TLSv1.3',
          // the callee is known by its identity, not by a host name
          checkServerIdentity: (_host: string, peer: PeerCertificate) =>
            identityFromSan(peer.subjectaltname, app) === service
              ? undefined
              : new Error(`the server at ${entry.url} is not ${expected} (its certificate names ${peer.subjectaltname ?? 'nothing'})`),
        },
      });
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
