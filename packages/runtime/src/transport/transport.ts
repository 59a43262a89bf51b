import type { AuthClaims } from 'carotene/model';

/** What travels with every internal call besides its input. */
export interface CallMeta {
  /** Name of the calling service (`gateway` for public requests). */
  readonly caller: string;
  readonly requestId: string;
  /** Epoch milliseconds after which the caller gives up; callees inherit it. */
  readonly deadline: number;
  /** The verified end user, when the call chain started at an authenticated request. */
  readonly auth?: AuthClaims | undefined;
  readonly idempotencyKey?: string | undefined;
  /** W3C trace context of the calling span (`00-<trace id>-<span id>-<flags>`). */
  readonly traceparent?: string | undefined;
  /** W3C vendor trace state that travels with `traceparent`. */
  readonly tracestate?: string | undefined;
}

/**
 * The one seam between the runtime and the wire. The runtime never opens a socket itself:
 * HTTP, in-process and mock transports implement this, and only this.
 * `call` resolves with the callee's raw output or rejects with a `CaroteneError`.
 */
export interface Transport {
  call(service: string, fn: string, input: unknown, meta: CallMeta): Promise<unknown>;
  close(): Promise<void>;
}

/** Where each service of an app listens, as `carrot dev` writes it. */
export interface Registry {
  readonly app: string;
  readonly gateway: { readonly url: string };
  readonly services: Readonly<Record<string, ServiceAddress>>;
}

/**
 * Where one service listens: `url` is its first instance (what single-instance readers
 * use); `instances` lists every instance when it runs several (`carrot dev --scale`).
 *
 * ```json
 * { "url": "https://127.0.0.1:4101", "instances": [{ "url": "https://127.0.0.1:4101" }, { "url": "https://127.0.0.1:4102" }] }
 * ```
 */
export interface ServiceAddress {
  readonly url: string;
  readonly instances?: ReadonlyArray<{ readonly url: string }>;
  /**
   * What the callee speaks: `carotene` (default: carotene-rpc/1, the internal fast path) or
   * `grpc` (a service that speaks only standard gRPC and `grpc.health.v1`, over mutual TLS:
   * an `external` one, written in another language).
   */
  readonly protocol?: 'carotene' | 'grpc' | undefined;
}

/** The protocol an address speaks (`carotene` when it does not say). */
export function protocolOf(address: ServiceAddress): 'carotene' | 'grpc' {
  return address.protocol ?? 'carotene';
}

/** Every instance URL of a service: its `instances`, else its one `url`. */
export function instanceUrls(address: ServiceAddress): string[] {
  return address.instances && address.instances.length > 0 ? address.instances.map((i) => i.url) : [address.url];
}
