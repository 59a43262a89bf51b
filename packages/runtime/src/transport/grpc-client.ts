import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { DescMethodUnary } from '@bufbuild/protobuf';
import { Code, ConnectError, type Transport as ConnectTransport } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { CaroteneError, platformError } from 'carotene/model';
import type { CredentialSource } from '../security/credentials.ts';
import { identityFromSan, spiffeId } from '../security/identity.ts';
import type { GrpcContract } from './grpc-server.ts';
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
}

interface Channel {
  readonly transport: ConnectTransport;
  readonly sessions: Http2SessionManager;
}

/**
 * Calls a callee that speaks only gRPC (a service in another language, registered with
 * `protocol: 'grpc'`) over HTTP/2 with mutual TLS, using this process's certificate and the
 * app's CAs. The callee is accepted if its certificate names the service it meant to call
 * (`spiffe://<app>/<service>`), or, for a certificate with no identity of the app, if it is
 * valid for the host name of its URL. The deadline goes as `grpc-timeout`; trace context,
 * request id, idempotency key and end user as metadata; a gRPC status comes back as the same
 * typed CaroteneError the frame protocol gives (see grpc-status.ts).
 */
export class GrpcClient {
  readonly #options: GrpcClientOptions;
  readonly #channels = new Map<string, Channel>();
  readonly #unsubscribe: () => void;

  constructor(options: GrpcClientOptions) {
    this.#options = options;
    // new calls get channels with the new credentials; calls in flight finish on the old ones
    this.#unsubscribe = options.tls.onChange(() => {
      const old = [...this.#channels.values()];
      this.#channels.clear();
      setTimeout(() => {
        for (const channel of old) channel.sessions.abort();
      }, 30_000).unref();
    });
  }

  async call(service: string, url: string, fn: string, input: unknown, meta: CallMeta): Promise<unknown> {
    const contract = this.#options.contract(service);
    if (!contract)
      throw platformError('INVALID_CONFIG', `${service} is registered as gRPC, but no protobuf descriptors of its contract are known here`, { service });
    const f = contract.functions[fn];
    if (!f) throw platformError('UNKNOWN_FUNCTION', `the contract of ${service} has no function '${fn}'`, { service });
    const remaining = meta.deadline - Date.now();
    if (remaining <= 0) throw platformError('DEADLINE_EXCEEDED', `no time left to call ${service}.${fn}`, { service });
    const header: Record<string, string> = { [HEADER.requestId]: meta.requestId };
    if (meta.traceparent) header[HEADER.traceparent] = meta.traceparent;
    if (meta.tracestate) header[HEADER.tracestate] = meta.tracestate;
    if (meta.idempotencyKey) header[HEADER.idempotencyKey] = meta.idempotencyKey;
    if (meta.auth) header[HEADER.auth] = encodeAuth(meta.auth);
    let message: unknown;
    try {
      message = f.input.toMessage(input);
    } catch (err) {
      throw platformError('INVALID_INPUT', `the input of ${service}.${fn} does not fit its protobuf message: ${(err as Error).message}`, { service });
    }
    try {
      const response = await this.#channel(service, url).transport.unary(f.method as DescMethodUnary, undefined, remaining, header, message as never);
      return f.output.fromMessage(response.message);
    } catch (err) {
      if (err instanceof CaroteneError) throw err;
      const error = ConnectError.from(err);
      if (error.code === Code.DeadlineExceeded) throw platformError('DEADLINE_EXCEEDED', `${service}.${fn} did not answer within ${remaining} ms`, { service });
      // no gRPC status came back: the connection failed (refused, reset, a certificate the app's CAs did not sign)
      const system = (error.cause as { code?: unknown } | undefined)?.code;
      if ((error.code === Code.Unavailable || typeof system === 'string') && error.details.length === 0)
        throw platformError('UNAVAILABLE', `${service} is unreachable (${typeof system === 'string' ? `${system}: ` : ''}${error.rawMessage})`, {
          service,
          cause: err,
        });
      throw fromConnectError(error, service);
    }
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    for (const channel of this.#channels.values()) channel.sessions.abort();
    this.#channels.clear();
  }

  #channel(service: string, url: string): Channel {
    const key = `${service} ${url}`;
    let channel = this.#channels.get(key);
    if (!channel) {
      const { ca, cert, key: privateKey } = this.#options.tls.current();
      const app = this.#options.app;
      const nodeOptions = {
        ca,
        cert,
        key: privateKey,
        minVersion: 'TLSv1.3' as const,
        checkServerIdentity: (host: string, peer: PeerCertificate) => {
          const identity = identityFromSan(peer.subjectaltname, app);
          if (identity === service) return undefined;
          if (identity !== undefined)
            return new Error(`the server at ${url} is not ${spiffeId(app, service)} (its certificate names ${peer.subjectaltname ?? 'nothing'})`);
          return checkServerIdentity(host, peer);
        },
      };
      const sessions = new Http2SessionManager(url, { idleConnectionTimeoutMs: 60_000 }, nodeOptions);
      channel = { transport: createGrpcTransport({ baseUrl: url, sessionManager: sessions, nodeOptions }), sessions };
      this.#channels.set(key, channel);
    }
    return channel;
  }
}
