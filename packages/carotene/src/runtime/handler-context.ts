import type { Kysely } from 'kysely';
import type { Contract } from '../declare/contract.ts';
import type { AuthClaims, Log } from '../declare/handler.ts';
import { CaroteneError } from '../errors.ts';
import type { CallMeta, Transport } from '../transport/transport.ts';
import { createCallAccess } from './call-clients.ts';

/** Everything a handler's context is built from that does not change between calls. */
export interface HandlerBinding {
  readonly service: string;
  readonly fn: string;
  readonly owner: string;
  readonly errors: Readonly<Record<string, number>>;
  readonly calls: readonly Contract[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- one database of the service's own tables
  readonly db: Kysely<any>;
  /** `ctx.store` on the service's connection. */
  readonly store: object;
  /** `ctx.store` bound to a transaction. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly storeIn: (trx: Kysely<any>) => object;
  readonly transport: Transport;
  readonly config: unknown;
  readonly log: Log;
}

/** The `ctx` a handler receives; cheap to build, with the costly parts made on first use. */
export class HandlerContextImpl {
  readonly #binding: HandlerBinding;
  readonly #meta: CallMeta;
  #call: object | undefined;
  #signal: AbortSignal | undefined;

  constructor(binding: HandlerBinding, meta: CallMeta) {
    this.#binding = binding;
    this.#meta = meta;
  }

  get store(): object {
    return this.#binding.store;
  }
  get call(): object {
    this.#call ??= createCallAccess(this.#binding.calls, this.#binding.transport, this.#meta, this.#binding.service, this.#binding.owner);
    return this.#call;
  }
  get auth(): AuthClaims | undefined {
    return this.#meta.auth;
  }
  get config(): unknown {
    return this.#binding.config;
  }
  get service(): string {
    return this.#binding.service;
  }
  get requestId(): string {
    return this.#meta.requestId;
  }
  get caller(): string {
    return this.#meta.caller;
  }
  get deadline(): number {
    return this.#meta.deadline;
  }
  get signal(): AbortSignal {
    this.#signal ??= AbortSignal.timeout(Math.max(0, this.#meta.deadline - Date.now()));
    return this.#signal;
  }
  get log(): Log {
    return this.#binding.log;
  }

  reject(code: string, message: string, details?: unknown): CaroteneError {
    const status = this.#binding.errors[code];
    if (status === undefined) {
      // Escaped the types: an undeclared code becomes an internal error, never a silent new contract.
      return new CaroteneError('INTERNAL', `${this.#binding.owner} rejected with '${code}', which its contract does not declare`, {
        service: this.#binding.service,
      });
    }
    return new CaroteneError(code, message, { status, domain: true, service: this.#binding.service, details });
  }

  transaction<T>(fn: (store: object) => Promise<T>): Promise<T> {
    return this.#binding.db.transaction().execute((trx) => fn(this.#binding.storeIn(trx)));
  }
}
