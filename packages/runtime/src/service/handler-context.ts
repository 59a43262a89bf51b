import type { AnyDb } from 'carotene/model';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Contract, HttpIntegration } from 'carotene/model';
import type { EventDef, PublishOptions } from 'carotene/model';
import type { AuthClaims, Log } from 'carotene/model';
import type { SagaOutcome, SagaRef, SagaStartOptions } from 'carotene/model';
import type { SagaRunner } from '../sagas/saga-runner.ts';
import { CaroteneError, permissionDenied, platformError } from 'carotene/model';
import type { CallMeta, Transport } from '../transport/transport.ts';
import { headersOf, inSpan, SpanKind } from '../telemetry/spans.ts';
import { logWithTrace } from '../telemetry/trace-log.ts';
import type { TraceHeaders } from '../telemetry/trace-context.ts';
import { createCallAccess } from './call-clients.ts';
import { createHttpAccess, type HttpSender } from './http-clients.ts';

/** Everything a handler's context is built from that does not change between calls. */
export interface HandlerBinding {
  readonly service: string;
  readonly fn: string;
  readonly owner: string;
  readonly errors: Readonly<Record<string, number>>;
  readonly calls: readonly Contract[];
  /** The HTTP integrations among the declared `calls`. */
  readonly http: readonly HttpIntegration[];
  /** How `ctx.http` requests leave (a test harness's mock); over the network when absent. */
  readonly httpSender?: HttpSender | undefined;
  /** Who declared the permissions, for PERMISSION_DENIED messages. */
  readonly declarer?: "handler's" | "saga's";
  readonly db: AnyDb;
  /** `ctx.store` on the service's connection. */
  readonly store: object;
  /** `ctx.store` bound to a transaction. */
  readonly storeIn: (trx: AnyDb) => object;
  readonly transport: Transport;
  readonly config: unknown;
  readonly log: Log;
  /** Events the handler declared in `publishes`. */
  readonly publishes?: readonly EventDef[];
  /** Where `ctx.publish` writes: the service's outbox (absent when the service publishes nothing). */
  readonly events?: EventSink;
  /** Sagas the handler declared in `sagas`. */
  readonly sagas?: readonly SagaRef[];
  /** The service's saga runner (absent when it declares no sagas). */
  readonly sagaRunner?: SagaRunner | undefined;
}

/** The service's outbox, as a handler context sees it. */
export interface EventSink {
  /** Validates and writes one event in `trx`. */
  publish(trx: AnyDb, event: EventDef, payload: unknown, options: PublishOptions | undefined, owner: string, trace?: TraceHeaders): Promise<void>;
  /** Called after a transaction that published committed: wakes the relay. */
  committed(): void;
}

/** The transaction a handler is inside, found by `ctx.publish` through async context. */
interface ActiveTransaction {
  readonly owner: HandlerContextImpl;
  readonly trx: AnyDb;
  published: number;
  /** The span the transaction runs in (a publish's parent), handed on explicitly. */
  readonly trace: TraceHeaders;
}

const active = new AsyncLocalStorage<ActiveTransaction>();

type RunSaga = (saga: SagaRef, input: unknown, options?: SagaStartOptions) => Promise<SagaOutcome>;
type StartSaga = (saga: SagaRef, input: unknown, options?: SagaStartOptions) => Promise<string>;
type Publish = (event: EventDef, payload: unknown, options?: PublishOptions) => Promise<void>;

/** The `ctx` a handler receives; cheap to build, with the costly parts made on first use. */
export class HandlerContextImpl {
  readonly #binding: HandlerBinding;
  readonly #meta: CallMeta;
  #call: object | undefined;
  #http: object | undefined;
  #log: Log | undefined;
  #signal: AbortSignal | undefined;
  /** Set for subscribers, which run whole inside the inbox transaction. */
  readonly #outer: ActiveTransaction | undefined;
  readonly #outerStore: object | undefined;

  constructor(binding: HandlerBinding, meta: CallMeta, outerTransaction?: AnyDb) {
    this.#binding = binding;
    this.#meta = meta;
    if (outerTransaction) {
      this.#outer = { owner: this, trx: outerTransaction, published: 0, trace: meta };
      this.#outerStore = binding.storeIn(outerTransaction);
    }
  }

  get store(): object {
    return this.#outerStore ?? this.#binding.store;
  }
  /** Events published in the transaction the context was made in (a subscriber's, a keyed call's). */
  get publishedInOuterTransaction(): number {
    return this.#outer?.published ?? 0;
  }
  get call(): object {
    this.#call ??= createCallAccess(this.#binding.calls, this.#binding.transport, this.#meta, this.#binding.service, this.#binding.owner);
    return this.#call;
  }
  get http(): object {
    const b = this.#binding;
    this.#http ??= createHttpAccess(b.http, this.#meta, b.service, b.owner, b.declarer ?? "handler's", b.httpSender);
    return this.#http;
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
    // made on first use: most calls never log
    this.#log ??= logWithTrace(this.#binding.log, this.#meta);
    return this.#log;
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

  async transaction<T>(fn: (store: object) => Promise<T>): Promise<T> {
    // a subscriber is in a transaction already: its writes join it
    if (this.#outerStore) return fn(this.#outerStore);
    let tx: ActiveTransaction | undefined;
    const attributes = { 'carotene.service': this.#binding.service, 'db.operation.name': 'transaction' };
    const result = await inSpan(`${this.#binding.owner} transaction`, SpanKind.INTERNAL, this.#meta, attributes, (span) =>
      this.#binding.db.transaction().execute((trx) => {
        tx = { owner: this, trx, published: 0, trace: headersOf(span, this.#meta) };
        return active.run(tx, () => fn(this.#binding.storeIn(trx)));
      }),
    );
    if (tx && tx.published > 0) this.#binding.events?.committed();
    return result;
  }

  // `ctx.saga`, `ctx.startSaga` and `ctx.publish` work detached from ctx too (`const { publish } = ctx`):
  // each is bound on first use, not made for every call of every handler
  #saga: RunSaga | undefined;
  #startSaga: StartSaga | undefined;
  #publish: Publish | undefined;

  /** `ctx.saga`: starts a declared saga and waits for its outcome within the call's deadline. */
  get saga(): RunSaga {
    return (this.#saga ??= this.#runSaga.bind(this));
  }
  /** `ctx.startSaga`: starts a declared saga and returns its id. */
  get startSaga(): StartSaga {
    return (this.#startSaga ??= this.#beginSaga.bind(this));
  }
  /** `ctx.publish`: into the outbox, in the transaction the handler is in. */
  get publish(): Publish {
    return (this.#publish ??= this.#publishEvent.bind(this));
  }

  async #runSaga(saga: SagaRef, input: unknown, options?: SagaStartOptions): Promise<SagaOutcome> {
    const runner = this.#sagaRunner(saga);
    return runner.wait(await runner.start(saga, input, options, this.#meta), this.#meta.deadline);
  }

  async #beginSaga(saga: SagaRef, input: unknown, options?: SagaStartOptions): Promise<string> {
    return this.#sagaRunner(saga).start(saga, input, options, this.#meta);
  }

  #sagaRunner(saga: SagaRef): SagaRunner {
    const runner = this.#binding.sagaRunner;
    if (!runner || !this.#binding.sagas?.includes(saga)) {
      const owner = this.#binding.owner;
      throw permissionDenied(
        { owner, permission: 'sagas', name: saga.name },
        `${owner} may not start saga '${saga.name}': add it to the handler's sagas (and the service's)`,
      );
    }
    return runner;
  }

  async #publishEvent(event: EventDef, payload: unknown, options?: PublishOptions): Promise<void> {
    const owner = this.#binding.owner;
    const sink = this.#binding.events;
    if (!this.#binding.publishes?.includes(event) || !sink) {
      throw permissionDenied(
        { owner, permission: 'publishes', name: event.type },
        `${owner} may not publish '${event.type}': add it to the handler's publishes (and the service's)`,
      );
    }
    const tx = this.#outer ?? active.getStore();
    if (!tx || tx.owner !== this) {
      throw platformError(
        'NO_TRANSACTION',
        `${owner} published '${event.type}' outside ctx.transaction; publish inside it, so the event commits with the handler's writes or not at all`,
      );
    }
    await sink.publish(tx.trx, event, payload, options, owner, tx.trace);
    tx.published++;
  }
}
