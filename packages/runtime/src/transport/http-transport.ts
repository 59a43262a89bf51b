import type { PeerCertificate } from 'node:tls';
import { errorFromWire, platformError } from 'carotene/model';
import type { CredentialSource } from '../security/credentials.ts';
import { identityFromSan, spiffeId } from '../security/identity.ts';
import type { CallHead } from './frames.ts';
import { InstanceSet, type Instance } from './instance-set.ts';
import { DeadlineSweep } from './deadline-sweep.ts';
import { GrpcClient } from './grpc-client.ts';
import type { GrpcContract } from './grpc-server.ts';
import { ConnectionError, DeadlineError, type Reply } from './rpc-connection.ts';
import { RpcPeer } from './rpc-peer.ts';
import { instanceUrls, protocolOf, type CallMeta, type Registry, type Transport } from './transport.ts';

export interface HttpTransportOptions {
  /** Name this process calls as. */
  readonly caller: string;
  readonly registry: Registry;
  /** Most connections kept open per callee instance (default 1); calls are multiplexed on them. */
  readonly connections?: number;
  /** This process's certificate and key (its identity is `caller`), and the CAs it trusts. */
  readonly tls: CredentialSource;
  /** Told when an instance leaves the rotation after a failure, or rejoins it. */
  readonly onInstanceChange?: (event: { service: string; url: string; ejected: boolean; reason?: string }) => void;
  /** The protobuf descriptors of a callee's contract, for callees registered with `protocol: 'grpc'`. */
  readonly grpcContract?: (service: string) => GrpcContract | undefined;
}

/**
 * Internal calls over mutual TLS 1.3 to each service's one port, speaking `carotene-rpc/1`
 * (negotiated by ALPN; see frames.ts and docs/transport.md): calls are frames with call ids,
 * multiplexed on a few long-lived connections per callee instance, their writes coalesced per
 * tick, their deadlines checked by one sweep. The client presents its own certificate and
 * accepts the callee only if the callee's certificate names the identity it meant to call
 * (`spiffe://<app>/<service>`), so a registry pointing at the wrong process cannot receive the
 * call. When the credentials rotate, new connections are made: calls in flight finish on the
 * old ones. A service with several instances (`instances` in the registry) gets connections
 * per instance; each call goes to the one with the fewest calls outstanding, and one that
 * fails is ejected until it answers a ping again (see {@link InstanceSet}). A callee
 * registered with `protocol: 'grpc'` is called over standard gRPC instead ({@link GrpcClient}),
 * its instances balanced the same way.
 */
export class HttpTransport implements Transport {
  readonly #options: HttpTransportOptions;
  readonly #sets = new Map<string, InstanceSet<RpcPeer>>();
  readonly #sweep = new DeadlineSweep();
  readonly #unsubscribe: () => void;
  #grpc: GrpcClient | undefined;

  constructor(options: HttpTransportOptions) {
    this.#options = options;
    this.#unsubscribe = options.tls.onChange(() => {
      for (const set of this.#sets.values()) for (const peer of set.reconnect()) void peer.drain();
    });
  }

  async call(service: string, fn: string, input: unknown, meta: CallMeta): Promise<unknown> {
    const entry = this.#options.registry.services[service];
    if (entry && protocolOf(entry) === 'grpc') return this.#callGrpc(service, fn, input, meta);
    const set = this.#instances(service);
    const remaining = meta.deadline - Date.now();
    if (remaining <= 0) throw platformError('DEADLINE_EXCEEDED', `no time left to call ${service}.${fn}`, { service });
    const head: CallHead = {
      fn,
      timeout: remaining,
      requestId: meta.requestId,
      auth: meta.auth,
      idempotencyKey: meta.idempotencyKey,
      traceparent: meta.traceparent,
      tracestate: meta.tracestate,
    };
    const body = input === undefined ? '' : JSON.stringify(input);
    const tried = new Set<Instance<RpcPeer>>();
    for (;;) {
      const instance = set.pick(tried);
      tried.add(instance);
      let reply: Reply;
      try {
        reply = await set.run(instance, ({ pool }) => pool.call(head, body, meta.deadline));
      } catch (err) {
        if (err instanceof DeadlineError) {
          set.eject(instance, 'timeout');
          throw platformError('DEADLINE_EXCEEDED', `${service}.${fn} did not answer within ${remaining} ms`, { service });
        }
        const code = err instanceof ConnectionError ? err.code : ((err as { code?: string }).code ?? (err as Error).message);
        set.eject(instance, code);
        // not sent (refused): the call never ran, so another instance may take it whatever it does
        if (err instanceof ConnectionError && !err.sent && tried.size < set.instances.length) continue;
        const message = (err as Error).message;
        const reason =
          code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'EPROTO' || /is not spiffe:|closed the connection/.test(message) ? `${code}: ${message}` : code;
        throw platformError('UNAVAILABLE', `${service} is unreachable (${reason})`, { service, cause: err });
      }
      if (reply.status === 204) return undefined;
      const answer = parseJson(reply.body);
      if (reply.status === 200 && answer.ok) return answer.value;
      throw errorFromWire(answer.ok ? answer.value : null, reply.status, service);
    }
  }

  #callGrpc(service: string, fn: string, input: unknown, meta: CallMeta): Promise<unknown> {
    this.#grpc ??= new GrpcClient({
      app: this.#options.registry.app,
      tls: this.#options.tls,
      contract: (s) => this.#options.grpcContract?.(s),
      onInstanceChange: this.#options.onInstanceChange,
    });
    return this.#grpc.call(service, instanceUrls(this.#options.registry.services[service]!), fn, input, meta);
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    await this.#grpc?.close();
    await Promise.all([...this.#sets.values()].flatMap((set) => set.close().map((peer) => peer.drain())));
    this.#sets.clear();
    this.#sweep.stop();
  }

  /** The instances of `service`, balanced by least outstanding calls (see {@link InstanceSet}). */
  #instances(service: string): InstanceSet<RpcPeer> {
    let set = this.#sets.get(service);
    if (!set) {
      const entry = this.#options.registry.services[service];
      if (!entry) throw platformError('UNAVAILABLE', `no address is registered for service '${service}'`, { service });
      set = new InstanceSet<RpcPeer>({
        urls: instanceUrls(entry),
        connect: (url) => this.#connect(service, url),
        // an ejected instance is back when it answers a ping within a second
        healthy: (instance) => instance.pool.ping(1_000),
        onChange: this.#options.onInstanceChange && ((e) => this.#options.onInstanceChange?.({ service, ...e })),
      });
      this.#sets.set(service, set);
    }
    return set;
  }

  #connect(service: string, url: string): RpcPeer {
    const { ca, cert, key } = this.#options.tls.current();
    const app = this.#options.registry.app;
    const expected = spiffeId(app, service);
    return new RpcPeer({
      url,
      connections: this.#options.connections ?? 1,
      sweep: this.#sweep,
      tls: {
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

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
