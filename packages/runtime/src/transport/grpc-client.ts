import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ConnectError } from '@connectrpc/connect';
import { platformError } from 'carotene/model';
import type { CredentialSource } from '../security/credentials.ts';
import { identityFromSan, spiffeId } from '../security/identity.ts';
import { GrpcChannel, GrpcConnectionError } from './grpc-channel.ts';
import { HealthService, SERVING_STATUS } from './grpc-descriptors.ts';
import { DELIVER_FN, DELIVER_METHOD } from './grpc-events.ts';
import { methodPath, type GrpcContract } from './grpc-server.ts';
import { InstanceSet, type Instance } from './instance-set.ts';
import { fromConnectError } from './grpc-status.ts';
import type { CallMeta } from './transport.ts';
import { encodeAuth, HEADER } from './wire.ts';

export interface GrpcClientOptions {
  /** The app whose identities (`spiffe://<app>/<name>`) callees present. */
  readonly app: string;
  /** This process's certificate and key, and the CAs it trusts. */
  readonly tls: CredentialSource;
  /** The protobuf descriptors of a callee's contract (`@carotene/runtime/grpc`); undefined when none. */
  readonly contract: (service: string) => GrpcContract | undefined;
  /** Told when an instance leaves or rejoins the rotation. */
  readonly onInstanceChange?: ((event: { service: string; url: string; ejected: boolean; reason?: string }) => void) | undefined;
}

/**
 * Calls a callee that speaks only gRPC (a service in another language, registered with
 * `protocol: 'grpc'`) over HTTP/2 with mutual TLS, using this process's certificate and the
 * app's CAs. The callee is accepted if its certificate names the service it meant to call
 * (`spiffe://<app>/<service>`), or, for a certificate with no identity of the app, if it is
 * valid for the host name of its URL. The deadline goes as `grpc-timeout`; trace context,
 * request id, idempotency key and end user as metadata; a gRPC status comes back as the same
 * typed CaroteneError the frame protocol gives (see grpc-status.ts). A callee's instances are
 * balanced as for the frame protocol ({@link InstanceSet}): least calls outstanding, an
 * instance that failed at the connection level ejected until its `grpc.health.v1` Check
 * answers SERVING, and a call that surely never ran tried on another.
 */
export class GrpcClient {
  readonly #options: GrpcClientOptions;
  readonly #sets = new Map<string, InstanceSet<GrpcChannel>>();
  readonly #unsubscribe: () => void;

  constructor(options: GrpcClientOptions) {
    this.#options = options;
    // new calls get sessions with the new credentials; calls in flight finish on the old ones
    this.#unsubscribe = options.tls.onChange(() => {
      for (const set of this.#sets.values()) for (const channel of set.reconnect()) channel.close();
    });
  }

  async call(service: string, urls: readonly string[], fn: string, input: unknown, meta: CallMeta): Promise<unknown> {
    const f = fn === DELIVER_FN ? DELIVER_METHOD : this.#function(service, fn);
    const remaining = meta.deadline - Date.now();
    if (remaining <= 0) throw platformError('DEADLINE_EXCEEDED', `no time left to call ${service}.${fn}`, { service });
    const header: Record<string, string> = { [HEADER.requestId]: meta.requestId };
    if (meta.traceparent) header[HEADER.traceparent] = meta.traceparent;
    if (meta.tracestate) header[HEADER.tracestate] = meta.tracestate;
    if (meta.idempotencyKey) header[HEADER.idempotencyKey] = meta.idempotencyKey;
    if (meta.auth) header[HEADER.auth] = encodeAuth(meta.auth);
    let message: Uint8Array;
    try {
      message = toBinary(f.method.input, f.input.toMessage(input));
    } catch (err) {
      throw platformError('INVALID_INPUT', `the input of ${service}.${fn} does not fit its protobuf message: ${(err as Error).message}`, { service });
    }
    const set = this.#instances(service, urls);
    const path = methodPath(f.method);
    const tried = new Set<Instance<GrpcChannel>>();
    for (;;) {
      const instance = set.pick(tried);
      tried.add(instance);
      let answer: Uint8Array;
      try {
        answer = await set.run(instance, ({ pool }) => pool.unary(path, message, header, meta.deadline - Date.now()));
      } catch (err) {
        if (err instanceof GrpcConnectionError) {
          set.eject(instance, err.code === 'ETIMEDOUT' ? 'timeout' : err.code);
          if (err.code === 'ETIMEDOUT') throw platformError('DEADLINE_EXCEEDED', `${service}.${fn} did not answer within ${remaining} ms`, { service });
          if (!err.sent && tried.size < set.instances.length) continue;
          throw platformError('UNAVAILABLE', `${service} is unreachable (${err.code}: ${err.message})`, { service, cause: err });
        }
        throw fromConnectError(ConnectError.from(err), service);
      }
      try {
        return f.output.fromMessage(fromBinary(f.method.output, answer));
      } catch (err) {
        throw platformError('INTERNAL', `${service}.${fn} answered a message that is not its ${f.method.output.typeName}: ${(err as Error).message}`, {
          service,
        });
      }
    }
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    for (const set of this.#sets.values()) for (const channel of set.close()) channel.destroy();
    this.#sets.clear();
  }

  /** A function of the callee's contract, with its protobuf method and codecs. */
  #function(service: string, fn: string): GrpcContract['functions'][string] {
    const contract = this.#options.contract(service);
    if (!contract)
      throw platformError('INVALID_CONFIG', `${service} is registered as gRPC, but no protobuf descriptors of its contract are known here`, { service });
    const f = contract.functions[fn];
    if (!f) throw platformError('UNKNOWN_FUNCTION', `the contract of ${service} has no function '${fn}'`, { service });
    return f;
  }

  #instances(service: string, urls: readonly string[]): InstanceSet<GrpcChannel> {
    let set = this.#sets.get(service);
    if (!set) {
      set = new InstanceSet<GrpcChannel>({
        urls,
        connect: (url) => this.#connect(service, url),
        healthy: async ({ pool }) => {
          const answer = await pool.unary(HEALTH_CHECK, HEALTH_REQUEST, {}, 1_000);
          return (fromBinary(HealthService.methods[0]!.output, answer) as { status?: number }).status === SERVING_STATUS.SERVING;
        },
        onChange: this.#options.onInstanceChange && ((e) => this.#options.onInstanceChange?.({ service, ...e })),
      });
      this.#sets.set(service, set);
    }
    return set;
  }

  #connect(service: string, url: string): GrpcChannel {
    const { ca, cert, key } = this.#options.tls.current();
    const app = this.#options.app;
    return new GrpcChannel({
      url,
      tls: {
        ca,
        cert,
        key,
        minVersion: 'TLSv1.3',
        checkServerIdentity: (host: string, peer: PeerCertificate) => {
          const identity = identityFromSan(peer.subjectaltname, app);
          if (identity === service) return undefined;
          if (identity !== undefined)
            return new Error(`the server at ${url} is not ${spiffeId(app, service)} (its certificate names ${peer.subjectaltname ?? 'nothing'})`);
          return checkServerIdentity(host, peer);
        },
      },
    });
  }
}

const HEALTH_CHECK = methodPath(HealthService.methods[0]!);
const HEALTH_REQUEST = toBinary(HealthService.methods[0]!.input, create(HealthService.methods[0]!.input));
