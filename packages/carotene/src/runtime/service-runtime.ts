import type { Kysely } from 'kysely';
import type { RpcDef } from '../declare/contract.ts';
import type { EventDef, EventMessage } from '../declare/event.ts';
import type { Permissions } from '../declare/handler.ts';
import type { ServiceDef } from '../declare/service.ts';
import { CaroteneError, isCaroteneError, platformError } from '../errors.ts';
import type { StoreDriver } from '../store/driver.ts';
import { createStoreAccess, fullAccess } from '../store/store-access.ts';
import { isUniqueViolation } from '../store/store-errors.ts';
import type { CallMeta, Transport } from '../transport/transport.ts';
import type { CallerCheck } from './caller-policy.ts';
import { HandlerContextImpl, type EventSink, type HandlerBinding } from './handler-context.ts';
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

  /**
   * `authorizeCaller` refuses callers the declared graph does not allow (see
   * `callerCheck`); every host applies it, whatever the transport. Test harnesses leave it out.
   */
  constructor(options: { def: ServiceDef; store: StoreDriver; transport: Transport; config: unknown; log: Logger; events?: EventSink; authorizeCaller?: CallerCheck }) {
    const { def, store, transport, config, log, events } = options;
    this.def = def;
    this.#log = log;
    this.#authorizeCaller = options.authorizeCaller;
    // handlers and subscribers get their ctx the same way: from their declared permissions
    const bind = (owner: string, fn: string, p: Permissions, errors: HandlerBinding['errors'], logFields: object): HandlerBinding => {
      const perms = { reads: p.reads ?? [], updates: p.updates ?? [] };
      return {
        service: def.name,
        fn,
        owner,
        errors,
        calls: p.calls ?? [],
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
    for (const [fn, h] of Object.entries(def.handlers)) {
      const rpc = def.contract.functions[fn]!;
      const binding = bind(`${def.name}.${fn}`, fn, h.permissions, rpc.errors, { handler: fn });
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
    const started = performance.now();
    let code: string | undefined;
    try {
      return await this.#invoke(fn, rawInput, meta);
    } catch (err) {
      const error = this.#normalize(err, fn);
      code = error.code;
      throw error;
    } finally {
      const entry = { handler: fn, caller: meta.caller, requestId: meta.requestId, durationMs: +(performance.now() - started).toFixed(2) };
      if (code === undefined) this.#log.info(entry, 'call');
      else this.#log.warn({ ...entry, code }, 'call failed');
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
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async handleEvent(trx: Kysely<any>, event: IncomingEvent, attempt: number): Promise<void> {
    const s = this.#subscribers.get(event.type);
    if (!s) throw platformError('UNKNOWN_FUNCTION', `'${this.def.name}' has no subscriber for '${event.type}'`);
    const data = s.event.schema.safeParse(event.data);
    if (!data.success) {
      throw platformError('INVALID_EVENT', `'${event.type}' ${event.id} does not match the subscribed schema: ${zodIssues(data.error).text}`);
    }
    const publisher = event.source.replace(/^\/services\//, '');
    const meta: CallMeta = { caller: publisher, requestId: event.id, deadline: Date.now() + 60_000 };
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
    const ctx = new HandlerContextImpl(h.binding, meta);
    const out = await h.run(input.data, ctx as never);
    const output = h.rpc.output.safeParse(out);
    if (!output.success) {
      this.#log.error({ handler: fn, issues: zodIssues(output.error).issues }, 'handler output does not match its contract');
      throw platformError('INVALID_OUTPUT', `${this.def.name}.${fn} produced output that does not match its contract`);
    }
    return output.data;
  }

  #normalize(err: unknown, fn: string): CaroteneError {
    const owner = `${this.def.name}.${fn}`;
    if (isCaroteneError(err)) {
      const ownError = err.service === undefined || err.service === this.def.name;
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
    this.#log.error({ handler: fn, err }, 'handler threw');
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
