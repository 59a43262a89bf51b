import type { AnyDb } from 'carotene/model';
import type { RpcDef } from 'carotene/model';
import type { EventDef, EventMessage } from 'carotene/model';
import type { Contract, Permissions } from 'carotene/model';
import { isHttpIntegration } from 'carotene/model';
import type { ServiceDef } from 'carotene/model';
import { CaroteneError, isCaroteneError, missingPermission, platformError } from 'carotene/model';
import type { StoreDriver } from '../store/driver.ts';
import { createStoreAccess, fullAccess } from '../store/store-access.ts';
import { isUniqueViolation } from '../store/store-errors.ts';
import type { CallMeta, Transport } from '../transport/transport.ts';
import type { CallerCheck } from './caller-policy.ts';
import { HandlerContextImpl, type EventSink, type HandlerBinding } from './handler-context.ts';
import type { HttpSender } from './http-clients.ts';
import { IdempotentCalls } from './idempotency.ts';
import { sagaRunnerFor } from './saga-bindings.ts';
import type { SagaRunner } from '../sagas/saga-runner.ts';
import { eventsHandled, handlerDuration, handlerRequests } from '../telemetry/metrics.ts';
import { endSpan, headersOf, logIds, SpanKind, startRemoteChild, startSpan, withSpan, type Span } from '../telemetry/spans.ts';
import type { Logger } from './logger.ts';
import { zodIssues } from './zod-issues.ts';

interface BoundHandler {
  readonly rpc: RpcDef;
  /** Roles the end user must have; `undefined` when no user is needed. */
  readonly needsUser: readonly string[] | undefined;
  readonly run: (input: unknown, ctx: never) => unknown;
  readonly binding: HandlerBinding;
}

interface BoundSubscriber {
  readonly event: EventDef;
  readonly run: (event: EventMessage, ctx: never) => unknown;
  readonly binding: HandlerBinding;
}

/** An envelope's fields a subscriber's run needs (CloudEvents attribute names). */
export interface IncomingEvent {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly subject: string;
  readonly time: string;
  readonly schemaversion: number;
  readonly data: unknown;
  /** The publisher's trace context (W3C), which the subscriber's span continues. */
  readonly traceparent?: string;
  readonly tracestate?: string;
}

/** A runtime function whose name starts with `$` (e.g. `$deliver`): not part of any contract. */
export type ReservedFunction = (input: unknown, meta: CallMeta) => Promise<unknown>;

/** Failures of other services that a caller may see as they are; anything else is our own bug. */
const PASS_THROUGH_FROM_DEPENDENCIES = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED']);

/**
 * Runs one service's handlers: validates input, builds each call's `ctx` with the handler's
 * permissions, converts whatever is thrown into a typed error, and validates output.
 * Transport-agnostic: the HTTP server, in-process calls and the test harness all use `invoke`.
 */
export class ServiceRuntime {
  readonly def: ServiceDef;
  readonly #handlers = new Map<string, BoundHandler>();
  readonly #log: Logger;
  readonly #subscribers = new Map<string, BoundSubscriber>();
  readonly #reserved = new Map<string, ReservedFunction>();
  readonly #authorizeCaller: CallerCheck | undefined;
  readonly #keys: IdempotentCalls;
  readonly #events: EventSink | undefined;
  /** Runs the service's sagas; undefined when it declares none. */
  readonly sagas: SagaRunner | undefined;

  /**
   * `authorizeCaller` refuses callers the declared graph does not allow (see
   * `callerCheck`); every host applies it, whatever the transport. Test harnesses leave it out.
   */
  constructor(options: {
    def: ServiceDef;
    store: StoreDriver;
    transport: Transport;
    config: unknown;
    log: Logger;
    events?: EventSink;
    authorizeCaller?: CallerCheck;
    /** How `ctx.http` requests leave; over the network unless a test harness mocks them. */
    httpSender?: HttpSender;
  }) {
    const { def, store, transport, config, log, events } = options;
    this.def = def;
    this.#log = log;
    this.#authorizeCaller = options.authorizeCaller;
    // handlers and subscribers get their ctx the same way: from their declared permissions
    const bind = (owner: string, fn: string, p: Permissions, errors: HandlerBinding['errors'], logFields: object, saga = false): HandlerBinding => {
      const perms = { reads: p.reads ?? [], updates: p.updates ?? [] };
      return {
        service: def.name,
        fn,
        owner,
        errors,
        calls: (p.calls ?? []).filter((c): c is Contract => !isHttpIntegration(c)),
        http: (p.calls ?? []).filter(isHttpIntegration),
        httpSender: options.httpSender,
        declarer: saga ? "saga's" : "handler's",
        db: store.db,
        store: createStoreAccess(store.db, def.stores, perms, owner, store.kind),
        storeIn: (trx) => createStoreAccess(trx, def.stores, perms, owner, store.kind),
        transport,
        config,
        log: log.child(logFields),
        publishes: p.publishes ?? [],
        events,
      };
    };
    this.#keys = new IdempotentCalls(store.db);
    this.#events = events;
    this.sagas = sagaRunnerFor({
      def,
      db: store.db,
      transport,
      log,
      bind: (sg) => bind(`${def.name}.saga(${sg.name})`, `saga(${sg.name})`, sg.permissions, {}, { saga: sg.name }, true),
    });
    for (const [fn, h] of Object.entries(def.handlers)) {
      const rpc = def.contract.functions[fn]!;
      const binding = {
        ...bind(`${def.name}.${fn}`, fn, h.permissions, rpc.errors, { handler: fn }),
        sagas: h.permissions.sagas ?? [],
        sagaRunner: this.sagas,
      };
      const p = h.permissions;
      const needsUser = p.auth === 'required' || (p.roles?.length ?? 0) > 0 ? (p.roles ?? []) : undefined;
      this.#handlers.set(fn, { rpc, needsUser, run: h.run as BoundHandler['run'], binding });
    }
    for (const event of def.subscribes) {
      const sub = def.subscribers[event.type]!;
      const binding = bind(`${def.name}.on(${event.type})`, `on(${event.type})`, sub.permissions, {}, { subscriber: event.type });
      this.#subscribers.set(event.type, { event, run: sub.run as BoundSubscriber['run'], binding });
    }
    this.fullStore = fullAccess(store.db, def.stores, `${def.name}.onStart`, store.kind);
  }

  /** Every table of the service, writable: for onStart and test harnesses. */
  readonly fullStore: object;

  async invoke(fn: string, rawInput: unknown, meta: CallMeta): Promise<unknown> {
    // runtime functions (`$deliver`) get no span: the events they carry get their own
    if (fn.startsWith('$')) return this.#observed(fn, rawInput, meta, undefined);
    const span = startSpan(`${this.def.name}.${fn}`, SpanKind.SERVER, meta, {
      'carotene.service': this.def.name,
      'carotene.caller': meta.caller,
      'rpc.method': fn,
    });
    // the handler's own calls continue this span, whether or not async context reaches them
    return withSpan(span, () => this.#observed(fn, rawInput, { ...meta, ...headersOf(span, meta) }, span));
  }

  /** Runs a call with its log line, metrics and span outcome. */
  async #observed(fn: string, rawInput: unknown, meta: CallMeta, span: Span | undefined): Promise<unknown> {
    const started = performance.now();
    let error: CaroteneError | undefined;
    try {
      return await this.#invoke(fn, rawInput, meta);
    } catch (err) {
      error = this.#normalize(err, fn, meta.requestId);
      throw error;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const entry = { handler: fn, caller: meta.caller, requestId: meta.requestId, durationMs: +(seconds * 1000).toFixed(2), ...(span ? logIds(span) : {}) };
      if (error === undefined) this.#log.info(entry, 'call');
      else this.#log.warn({ ...entry, code: error.code, message: error.message }, 'call failed');
      handlerRequests.inc({ service: this.def.name, handler: fn, status: String(error?.status ?? 200), code: error?.code ?? 'OK' });
      handlerDuration.observe({ service: this.def.name, handler: fn }, seconds);
      if (span) endSpan(span, error);
    }
  }

  /** Answers a `$`-function (e.g. `$deliver`) with `impl`; such names never reach a contract. */
  reserve(fn: `$${string}`, impl: ReservedFunction): void {
    this.#reserved.set(fn, impl);
  }

  /**
   * Runs the subscriber of `event` inside `trx`, the inbox's transaction: its writes (and
   * any events it publishes) commit with the inbox record, or not at all.
   */
  async handleEvent(trx: AnyDb, event: IncomingEvent, attempt: number): Promise<void> {
    const span = startRemoteChild(`${this.def.name} handle ${event.type}`, SpanKind.CONSUMER, event, {
      'carotene.service': this.def.name,
      'messaging.system': 'carotene',
      'messaging.operation.type': 'process',
      'messaging.destination.name': event.type,
      'messaging.message.id': event.id,
      'carotene.event.attempt': attempt,
    });
    try {
      await withSpan(span, () => this.#handleEvent(trx, event, attempt, span));
      endSpan(span);
      eventsHandled.inc({ service: this.def.name, type: event.type, outcome: 'ok' });
    } catch (err) {
      endSpan(span, err as { code?: unknown; message?: unknown });
      eventsHandled.inc({ service: this.def.name, type: event.type, outcome: 'error' });
      // retried and dead-lettered like any failure, but logged as the bug it is
      if (isCaroteneError(err, 'PERMISSION_DENIED'))
        throw this.#permissionBug(err, { subscriber: event.type, eventId: event.id }, `${this.def.name}.on(${event.type})`);
      throw err;
    }
  }

  async #handleEvent(trx: AnyDb, event: IncomingEvent, attempt: number, span: Span): Promise<void> {
    const s = this.#subscribers.get(event.type);
    if (!s) throw platformError('UNKNOWN_FUNCTION', `'${this.def.name}' has no subscriber for '${event.type}'`);
    const data = s.event.schema.safeParse(event.data);
    if (!data.success) {
      throw platformError('INVALID_EVENT', `'${event.type}' ${event.id} does not match the subscribed schema: ${zodIssues(data.error).text}`);
    }
    const publisher = event.source.replace(/^\/services\//, '');
    const meta: CallMeta = { caller: publisher, requestId: event.id, deadline: Date.now() + 60_000, ...headersOf(span, event) };
    const ctx = new HandlerContextImpl(s.binding, meta, trx);
    const message: EventMessage = {
      id: event.id,
      type: event.type,
      source: publisher,
      key: event.subject,
      time: event.time,
      version: event.schemaversion,
      attempt,
      data: data.data,
    };
    await s.run(message, ctx as never);
  }

  async #invoke(fn: string, rawInput: unknown, meta: CallMeta): Promise<unknown> {
    // before anything else: a caller that may not call learns nothing, not even which functions exist
    this.#authorizeCaller?.(meta.caller, fn);
    if (fn.startsWith('$')) {
      const reserved = this.#reserved.get(fn);
      if (!reserved) throw platformError('UNKNOWN_FUNCTION', `'${this.def.name}' has no runtime function '${fn}'`);
      return reserved(rawInput, meta);
    }
    const h = this.#handlers.get(fn);
    if (!h) throw platformError('UNKNOWN_FUNCTION', `'${this.def.name}' has no function '${fn}'`);
    if (Date.now() >= meta.deadline) throw platformError('DEADLINE_EXCEEDED', `the deadline of ${this.def.name}.${fn} passed before it started`);
    if (h.needsUser) checkUser(h.needsUser, meta, `${this.def.name}.${fn}`);
    const input = h.rpc.input.safeParse(rawInput);
    if (!input.success) {
      const { issues, text } = zodIssues(input.error);
      throw platformError('INVALID_INPUT', `invalid input for ${this.def.name}.${fn}: ${text}`, { details: issues });
    }
    let published = 0;
    const run = async (trx?: AnyDb) => {
      const ctx = new HandlerContextImpl(h.binding, meta, trx);
      const out = await h.run(input.data, ctx as never);
      published = ctx.publishedInOuterTransaction;
      const output = h.rpc.output.safeParse(out);
      if (!output.success) {
        const { issues, text } = zodIssues(output.error);
        this.#log.error(
          { handler: fn, requestId: meta.requestId, code: 'INVALID_OUTPUT', message: text, issues },
          'handler output does not match its contract',
        );
        throw platformError('INVALID_OUTPUT', `${this.def.name}.${fn} produced output that does not match its contract`);
      }
      return output.data;
    };
    // a keyed call runs once, in one transaction with its key (docs/sagas.md, idempotency)
    if (meta.idempotencyKey === undefined) return run();
    const out = await this.#keys.once({ caller: meta.caller, fn, key: meta.idempotencyKey }, run);
    // the key's transaction committed with events in it: wake the relay (a replay published nothing)
    if (published > 0) this.#events?.committed();
    return out;
  }

  /**
   * Logs code that reached an undeclared table, integration, event or saga at error level
   * (service, handler and the missing permission) and turns it into INTERNAL: the gateway
   * shows a public client only a 500 with the request id, naming nothing inside.
   */
  #permissionBug(err: CaroteneError, where: object, owner: string): CaroteneError {
    const missing = missingPermission(err);
    this.#log.error(
      { ...where, code: err.code, permission: missing?.permission, missing: missing?.name, err: err.message },
      'used a permission it did not declare (a bug of this service)',
    );
    return platformError('INTERNAL', `${owner} used a permission it did not declare: ${err.message}`, { service: this.def.name, cause: err });
  }

  #normalize(err: unknown, fn: string, requestId: string): CaroteneError {
    const owner = `${this.def.name}.${fn}`;
    if (isCaroteneError(err)) {
      const ownError = err.service === undefined || err.service === this.def.name;
      // the handler reached what it did not declare: our bug, never the caller's
      if (ownError && err.code === 'PERMISSION_DENIED') return this.#permissionBug(err, { handler: fn, requestId }, owner);
      if (ownError) {
        if (!err.domain || err.code in (this.def.contract.functions[fn]?.errors ?? {})) return withService(err, this.def.name);
        return platformError('INTERNAL', `${owner} raised '${err.code}', which its contract does not declare`, { service: this.def.name });
      }
      if (PASS_THROUGH_FROM_DEPENDENCIES.has(err.code)) return err;
      this.#log.error({ handler: fn, dependency: err.service, code: err.code, err: err.message }, 'unhandled error from a dependency');
      return platformError('INTERNAL', `${owner} did not handle ${err.service} error ${err.code}`, { service: this.def.name });
    }
    if (isUniqueViolation(err)) {
      // From a raw modify() or query(): the store handles map their own, this catches the rest.
      return platformError('CONFLICT', `${owner}: a write broke a uniqueness rule (${(err as Error).message})`, { service: this.def.name });
    }
    this.#log.error({ handler: fn, requestId, code: 'INTERNAL', err }, 'handler threw');
    return platformError('INTERNAL', `${owner} failed; see its log`, { service: this.def.name });
  }
}

/** The gateway checks this first; the runtime checks again for calls that did not come through it. */
function checkUser(roles: readonly string[], meta: CallMeta, owner: string): void {
  if (!meta.auth) throw platformError('UNAUTHENTICATED', `${owner} needs an authenticated user and the call carried none`);
  const missing = roles.filter((r) => !meta.auth!.roles.includes(r));
  if (missing.length > 0) throw platformError('FORBIDDEN', `${owner} needs the role${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
}

function withService(err: CaroteneError, service: string): CaroteneError {
  if (err.service === service) return err;
  return new CaroteneError(err.code, err.message, { status: err.status, domain: err.domain, service, details: err.details, cause: err });
}
