import type { z } from 'zod';
import { CaroteneError } from '../errors.ts';
import type { Contract } from './contract.ts';
import type { EventDef } from './event.ts';
import type { CallsOf, HttpOf, Log, PublishOf, StoreOf } from './handler.ts';
import type { HttpIntegration } from './http-integration.ts';
import type { Flat, JsonOf } from './json-of.ts';
import type { SagaFailure, SagaRef, StepResults } from './saga-ref.ts';
import type { Table } from './table.ts';

/** What a saga may touch, declared like a handler's permissions. */
export interface SagaPermissions {
  readonly reads?: readonly Table[];
  readonly updates?: readonly Table[];
  readonly calls?: readonly (Contract | HttpIntegration)[];
  readonly publishes?: readonly EventDef[];
}

/**
 * What a step's `run` and `compensate` receive besides the saga's input. `R` types
 * `ctx.results`: the earlier steps' outputs when the steps are declared with `.step(...)`.
 */
export interface StepContext<P extends SagaPermissions, R extends object = StepResults> {
  /**
   * A typed client per contract in the saga's `calls`. Every call carries the idempotency
   * key of this step (`<sagaId>/<step>`, or `<sagaId>/<step>/compensate`), so a retried
   * step is answered with the first result.
   */
  readonly call: CallsOf<P>;
  /**
   * A client per HTTP integration in the saga's `calls`. A step may be retried: give the
   * requests that change something an `idempotencyKey` (`ctx.idempotencyKey` fits).
   */
  readonly http: HttpOf<P>;
  /** The saga's tables, writable where declared in `updates`. */
  readonly store: StoreOf<P, 'saga'>;
  /** Runs `fn` in one transaction of the service's database. */
  transaction<T>(fn: (store: StoreOf<P, 'saga'>) => Promise<T>): Promise<T>;
  /** Publishes an event of the saga's `publishes`, inside `transaction`. */
  readonly publish: PublishOf<P>;
  /**
   * Output of each earlier step, by step name, as stored (JSON, so a `Date` reads back as a
   * string). With `.step(...)` it is typed from the earlier steps' `run`; in a compensation
   * the step's own output is there too when its `run` completed.
   */
  readonly results: R;
  readonly sagaId: string;
  readonly step: string;
  /** 1 on the first try of this step (or compensation), then 2, 3, ... */
  readonly attempt: number;
  /** The key the step's calls carry. */
  readonly idempotencyKey: string;
  /** In a compensation: the failure that made the saga compensate. */
  readonly failure: SagaFailure | undefined;
  readonly log: Log;
  /**
   * Builds the error to `throw` when the step failed for good (e.g. a card was declined):
   * the saga stops retrying and compensates the steps before it.
   */
  fail(message: string, details?: unknown): CaroteneError;
}

/** How a step whose outcome is unknown (a participant down, a timeout) is retried. */
export interface StepRetry {
  /** Tries in all; by default the step is retried until the saga's deadline. */
  readonly attempts?: number;
  /** First wait between tries (default 100 ms); it doubles up to `maxBackoffMs` (default 2 s). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** One step of a saga. Build it with {@link step}. */
export interface StepDef<I = unknown, P extends SagaPermissions = SagaPermissions> {
  readonly kind: 'step';
  readonly name: string;
  // method syntax: a saga's steps stay assignable to the erased SagaDef the runtime holds
  run(input: I, ctx: StepContext<P>): Promise<unknown>;
  /** Undoes `run`; retried with backoff until it succeeds. Must be idempotent. */
  compensate?(input: I, ctx: StepContext<P>): Promise<unknown>;
  readonly retry?: StepRetry | undefined;
  /** Milliseconds one try of the step (its calls) may take (default 10 s). */
  readonly timeout?: number | undefined;
}

/** A declared saga. Build it with {@link saga}; list it in `implement(..., { sagas })`. */
export interface SagaDef<I = unknown, P extends SagaPermissions = SagaPermissions, In = unknown, R extends object = StepResults> extends SagaRef<In, R> {
  readonly kind: 'saga';
  readonly name: string;
  readonly input: z.ZodType<I, In>;
  readonly permissions: P;
  readonly steps: readonly StepDef<I, P>[];
  /** Milliseconds from start after which unfinished steps stop and the saga compensates. */
  readonly timeout: number;
}

/** Default saga deadline: one minute from its start. */
export const DEFAULT_SAGA_TIMEOUT_MS = 60_000;

const NAME = /^[a-z][a-z0-9-]*$/;

/**
 * Declares one step: `run` does it, `compensate` undoes it when a later step fails for good.
 *
 * ```ts
 * step('reserve', {
 *   run: (input, ctx) => ctx.call.catalog.reserveStock({ orderId: input.id, items: input.items }),
 *   compensate: (input, ctx) => ctx.call.catalog.releaseStock({ orderId: input.id }),
 * })
 * ```
 */
export function step<I, P extends SagaPermissions>(
  name: string,
  options: {
    run: (input: I, ctx: StepContext<P>) => Promise<unknown>;
    compensate?: (input: I, ctx: StepContext<P>) => Promise<unknown>;
    retry?: StepRetry;
    timeout?: number;
  },
): StepDef<I, P> {
  if (!NAME.test(name)) throw new TypeError(`step name '${name}' must be lower-case letters, digits and dashes, starting with a letter`);
  return { kind: 'step', name, ...options };
}

type PermissionsOf<Calls, Reads, Updates, Pub> = { calls: Calls; reads: Reads; updates: Updates; publishes: Pub };

/** What `.step(name, options)` takes: `run` sees the results `R` of the steps before it. */
export interface ChainedStep<I, P extends SagaPermissions, R extends object, N extends string, O> {
  run: (input: I, ctx: StepContext<P, R>) => Promise<O> | O;
  /** Undoes `run`; its `ctx.results` has this step's own output when `run` completed. */
  compensate?: (input: I, ctx: StepContext<P, Flat<R & { readonly [K in N]?: JsonOf<O> }>>) => Promise<unknown>;
  retry?: StepRetry;
  timeout?: number;
}

/** A step name that is not taken yet; a taken one reads as the reason it does not compile. */
type FreshName<N extends string, R> = N extends keyof R ? `a step named '${N}' is declared already` : N;

/**
 * A saga declared step by step: a complete {@link SagaDef} (list it in `sagas`) that takes
 * one more step with `.step(...)`. Each step's `ctx.results` carries the outputs of the
 * steps before it, typed from their `run`.
 */
export interface SagaChain<I, P extends SagaPermissions, In, R extends object> extends SagaDef<I, P, In, R> {
  step<const N extends string, O>(name: FreshName<N, R>, options: ChainedStep<I, P, R, N, O>): SagaChain<I, P, In, Flat<R & { readonly [K in N]: JsonOf<O> }>>;
}

/**
 * The second half of {@link saga}: its steps, typed by the saga's input and permissions.
 * `.step(name, options)` declares them one by one, each seeing the typed results of the ones
 * before it; `.steps([...])` takes them all at once, with `ctx.results` untyped.
 */
export interface SagaBuilder<I, P extends SagaPermissions, In> {
  // biome-ignore lint/complexity/noBannedTypes: no results yet before the first step; each step's are intersected onto it
  step<const N extends string, O>(name: N, options: ChainedStep<I, P, {}, N, O>): SagaChain<I, P, In, { readonly [K in N]: JsonOf<O> }>;
  steps(steps: readonly StepDef<I, P>[]): SagaDef<I, P, In>;
}

/**
 * Declares a durable saga: steps that run in order, each persisted before and after it
 * runs; when one fails for good, the completed ones are compensated in reverse. Its
 * permissions are checked like a handler's. (Two parts, like `implement(...).handlers(...)`,
 * so that every type a step sees is settled before its body is checked.)
 *
 * ```ts
 * export const Checkout = saga('checkout', { input: z.object({ orderId: z.string() }), calls: [Catalog, Payments] })
 *   .step('reserve', { run: (input, ctx) => ..., compensate: (input, ctx) => ... })
 *   .step('charge', { run: (input, ctx) => ctx.call.payments.charge({ amount: ctx.results.reserve.total }) });
 * ```
 */
export function saga<
  S extends z.ZodType,
  const Calls extends readonly (Contract | HttpIntegration)[] = [],
  const Reads extends readonly Table[] = [],
  const Updates extends readonly Table[] = [],
  const Pub extends readonly EventDef[] = [],
>(
  name: string,
  options: { input: S; calls?: Calls; reads?: Reads; updates?: Updates; publishes?: Pub; timeout?: number },
): SagaBuilder<z.output<S>, PermissionsOf<Calls, Reads, Updates, Pub>, z.input<S>> {
  if (!NAME.test(name)) throw new TypeError(`saga name '${name}' must be lower-case letters, digits and dashes, starting with a letter`);
  const permissions = {
    calls: options.calls ?? ([] as unknown as Calls),
    reads: options.reads ?? ([] as unknown as Reads),
    updates: options.updates ?? ([] as unknown as Updates),
    publishes: options.publishes ?? ([] as unknown as Pub),
  };
  type Def = SagaDef<z.output<S>, PermissionsOf<Calls, Reads, Updates, Pub>, z.input<S>>;
  const defOf = (steps: Def['steps']): Def => {
    const names = new Set<string>();
    for (const s of steps) {
      if (s?.kind !== 'step') throw new TypeError(`saga '${name}': steps must be declared with step(...)`);
      if (names.has(s.name)) throw new TypeError(`saga '${name}' has two steps named '${s.name}'`);
      names.add(s.name);
    }
    return {
      kind: 'saga',
      name,
      input: options.input as z.ZodType<z.output<S>, z.input<S>>,
      permissions,
      steps,
      timeout: options.timeout ?? DEFAULT_SAGA_TIMEOUT_MS,
    };
  };
  // each `.step` returns a new, complete saga; the types of its results grow with the chain
  // (checked by the signatures above, erased here like a saga's steps are for the runner)
  type Options = Parameters<typeof step<z.output<S>, PermissionsOf<Calls, Reads, Updates, Pub>>>[1];
  const chain = (steps: Def['steps']): Def & { step(n: string, o: Options): unknown } => ({
    ...defOf(steps),
    step: (n, o) => chain([...steps, step(n, o)]),
  });
  return {
    step: ((n: string, o: Options) => chain([step(n, o)])) as SagaBuilder<z.output<S>, PermissionsOf<Calls, Reads, Updates, Pub>, z.input<S>>['step'],
    steps(steps) {
      if (steps.length === 0) throw new TypeError(`saga '${name}' has no steps`);
      return defOf(steps);
    },
  };
}

/** The error `ctx.fail` builds: a step failed for good, not for lack of an answer. */
export function stepFailed(sagaName: string, stepName: string, message: string, details?: unknown): CaroteneError {
  return new CaroteneError('SAGA_STEP_FAILED', message, { details: { saga: sagaName, step: stepName, ...(details === undefined ? {} : { details }) } });
}
