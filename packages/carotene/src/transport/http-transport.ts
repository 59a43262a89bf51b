import type { PeerCertificate } from 'node:tls';
import { Pool } from 'undici';
import { CaroteneError, errorFromWire, platformError } from '../errors.ts';
import type { CredentialSource } from '../security/credentials.ts';
import { identityFromSan, spiffeId } from '../security/identity.ts';
import { InstanceSet, type Instance } from './instance-set.ts';
import { instanceUrls, type CallMeta, type Registry, type Transport } from './transport.ts';
import { encodeAuth, HEADER, RPC_PREFIX } from './wire.ts';

export interface HttpTransportOptions {
  /** Name this process calls as. */
  readonly caller: string;
  readonly registry: Registry;
  /** Sockets kept open per callee (default 32). */
  readonly connections?: number;
  /** This process's certificate and key (its identity is `caller`), and the CAs it trusts. */
  readonly tls: CredentialSource;
  /** Told when an instance leaves the rotation after a failure, or rejoins it. */
  readonly onInstanceChange?: (event: { service: string; url: string; ejected: boolean; reason?: string }) => void;
}

/**
 * Internal calls over HTTPS/1.1 with mutual TLS 1.3 and a keep-alive pool per callee. The
 * client presents its own certificate and accepts the callee only if the callee's
 * certificate names the identity it meant to call (`spiffe://<app>/<service>`), so a
 * registry pointing at the wrong process cannot receive the call. When the credentials
 * rotate, pools are rebuilt: calls in flight finish on the old connections. A service with
 * several instances (`instances` in the registry) gets a pool per instance; each call goes to
 * the one with the fewest calls outstanding, and one that fails is ejected until its
 * `/health` answers again (see {@link InstanceSet}).
 */
export class HttpTransport implements Transport {
  readonly #options: HttpTransportOptions;
  readonly #sets = new Map<string, InstanceSet<Pool>>();
  readonly #unsubscribe: () => void;

  constructor(options: HttpTransportOptions) {
    this.#options = options;
    this.#unsubscribe = options.tls.onChange(() => {
      for (const set of this.#sets.values()) for (const pool of set.reconnect()) void pool.close().catch(() => undefined);
    });
  }

  async call(service: string, fn: string, input: unknown, meta: CallMeta): Promise<unknown> {
    const set = this.#instances(service);
    const remaining = meta.deadline - Date.now();
    if (remaining <= 0) throw platformError('DEADLINE_EXCEEDED', `no time left to call ${service}.${fn}`, { service });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [HEADER.timeout]: String(remaining),
      [HEADER.requestId]: meta.requestId,
    };
    if (meta.auth) headers[HEADER.auth] = encodeAuth(meta.auth);
    if (meta.idempotencyKey) headers[HEADER.idempotencyKey] = meta.idempotencyKey;
    if (meta.traceparent) headers[HEADER.traceparent] = meta.traceparent;
    if (meta.tracestate) headers[HEADER.tracestate] = meta.tracestate;
    const signal = AbortSignal.timeout(remaining);
    const body = input === undefined ? '' : JSON.stringify(input);
    const tried = new Set<Instance<Pool>>();
    for (;;) {
      const instance = set.pick(tried);
      tried.add(instance);
      try {
        return await set.run(instance, async ({ pool }) => {
          const res = await pool.request({ method: 'POST', path: RPC_PREFIX + encodeURIComponent(fn), headers, body, signal });
          const text = await res.body.text();
          if (res.statusCode === 204) return undefined;
          const answer = parseJson(text);
          if (res.statusCode === 200 && answer.ok) return answer.value;
          throw errorFromWire(answer.ok ? answer.value : null, res.statusCode, service);
        });
      } catch (err) {
        if (err instanceof CaroteneError) throw err;
        if (signal.aborted) {
          set.eject(instance, 'timeout');
          throw platformError('DEADLINE_EXCEEDED', `${service}.${fn} did not answer within ${remaining} ms`, { service });
        }
        const code = (err as { code?: string }).code ?? (err as Error).message;
        set.eject(instance, code);
        // refused: nothing was sent, so another instance may take the call whatever it does
        if (code === 'ECONNREFUSED' && tried.size < set.instances.length) continue;
        const reason = code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /is not spiffe:/.test((err as Error).message) ? `${code}: ${(err as Error).message}` : code;
        throw platformError('UNAVAILABLE', `${service} is unreachable (${reason})`, { service, cause: err });
      }
    }
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    await Promise.all([...this.#sets.values()].flatMap((set) => set.close().map((p) => p.close())));
    this.#sets.clear();
  }

  /** The instances of `service`, balanced by least outstanding calls (see {@link InstanceSet}). */
  #instances(service: string): InstanceSet<Pool> {
    let set = this.#sets.get(service);
    if (!set) {
      const entry = this.#options.registry.services[service];
      if (!entry) throw platformError('UNAVAILABLE', `no address is registered for service '${service}'`, { service });
      set = new InstanceSet<Pool>({
        urls: instanceUrls(entry),
        connect: (url) => this.#connect(service, url),
        healthy: (instance) => healthy(instance.pool),
        onChange: this.#options.onInstanceChange && ((e) => this.#options.onInstanceChange?.({ service, ...e })),
      });
      this.#sets.set(service, set);
    }
    return set;
  }

  #connect(service: string, url: string): Pool {
    const { ca, cert, key } = this.#options.tls.current();
    const app = this.#options.registry.app;
    const expected = spiffeId(app, service);
    return new Pool(url, {
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
            : new Error(`the server at ${url} is not ${expected} (its certificate names ${peer.subjectaltname ?? 'nothing'})`),
      },
    });
  }
}

/**
 * An `onInstanceChange` that writes each ejection and re-admission as a JSON log line.
 *
 * ```ts
 * new HttpTransport({ caller, registry, tls, onInstanceChange: logInstanceChanges(log) });
 * ```
 */
export function logInstanceChanges(log: { warn(fields: object, message: string): void }): NonNullable<HttpTransportOptions['onInstanceChange']> {
  return (e) => log.warn({ event: 'instance', ...e }, `${e.service} at ${e.url} ${e.ejected ? `is out of rotation (${e.reason})` : 'is back in rotation'}`);
}

/** An ejected instance is back when its `/health` answers 200 within a second. */
async function healthy(pool: Pool): Promise<boolean> {
  const res = await pool.request({ method: 'GET', path: '/health', signal: AbortSignal.timeout(1_000) });
  await res.body.dump();
  return res.statusCode === 200;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
