import type { AuthClaims } from '../declare/handler.ts';

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
  readonly services: Readonly<Record<string, { readonly url: string }>>;
}
