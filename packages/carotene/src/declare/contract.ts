import type { z } from 'zod';

/** HTTP status that a domain error maps to when it leaves through the gateway. */
export type ErrorStatus = 400 | 401 | 402 | 403 | 404 | 409 | 410 | 422 | 423 | 429;

/** One RPC function of a contract. Build it with {@link rpc}. */
export interface RpcDef<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType, E extends string = string> {
  readonly kind: 'rpc';
  readonly input: I;
  readonly output: O;
  readonly errors: Readonly<Record<E, ErrorStatus>>;
  /** Safe to repeat: the platform may retry it (and later issues key it). */
  readonly idempotent: boolean;
}

/**
 * Declares an RPC function: zod schemas for input and output, the domain errors it may
 * raise with their HTTP status, and whether repeating it is safe.
 *
 * ```ts
 * reserve: rpc({ input: z.object({ orderId: z.string() }), output: z.boolean(),
 *                errors: { OUT_OF_STOCK: 409 }, idempotent: true })
 * ```
 */
export function rpc<I extends z.ZodType, O extends z.ZodType, const E extends string = never>(def: {
  input: I;
  output: O;
  errors?: Record<E, ErrorStatus>;
  idempotent?: boolean;
}): RpcDef<I, O, E> {
  return {
    kind: 'rpc',
    input: def.input,
    output: def.output,
    errors: def.errors ?? ({} as Record<E, ErrorStatus>),
    idempotent: def.idempotent ?? false,
  };
}

export type Functions = Record<string, RpcDef>;

/**
 * How a contract or an event may change between released versions, checked by `carrot build`
 * against the saved contract snapshot (docs/contract-testing.md):
 * - `backward` (the default): what the new schemas allow includes all the old ones did, so
 *   the new version reads everything written against the old (no field made or added as
 *   required, no type narrowed);
 * - `forward`: the old schemas read everything the new ones allow (no required field removed
 *   or made optional, no type widened);
 * - `full`: both; `none`: not checked.
 */
export type Compatibility = 'backward' | 'forward' | 'full' | 'none';

export const COMPATIBILITY_MODES: readonly Compatibility[] = ['backward', 'forward', 'full', 'none'];

/** Checks an option `compatibility` of `where`; the default is backward. */
export function compatibilityOf(value: unknown, where: string): Compatibility {
  if (value === undefined) return 'backward';
  if (!COMPATIBILITY_MODES.includes(value as Compatibility)) {
    throw new TypeError(`${where}: compatibility must be one of ${COMPATIBILITY_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as Compatibility;
}

/** What a service offers: the only module other services import from it. */
export interface Contract<N extends string = string, F extends Functions = Functions> {
  readonly kind: 'contract';
  readonly name: N;
  readonly functions: F;
  /** How it may change between releases (default `backward`). */
  readonly compatibility: Compatibility;
}

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,40}$/;
const FUNCTION_NAME = /^[A-Za-z][A-Za-z0-9_]{0,80}$/;

/**
 * Declares a service's contract; `options.compatibility` says how it may change between
 * releases (default `backward`, see {@link Compatibility}).
 *
 * ```ts
 * export const Catalog = contract('catalog', { getProduct: rpc({ ... }) }, { compatibility: 'full' });
 * ```
 */
export function contract<const N extends string, const F extends Functions>(
  name: N,
  functions: F,
  options: { compatibility?: Compatibility } = {},
): Contract<N, F> {
  if (!SERVICE_NAME.test(name)) {
    throw new TypeError(`contract name '${name}' must be lower-case letters, digits and dashes, starting with a letter`);
  }
  for (const fn of Object.keys(functions)) {
    if (!FUNCTION_NAME.test(fn)) throw new TypeError(`contract '${name}': function name '${fn}' is not a valid identifier`);
    if (functions[fn]?.kind !== 'rpc') throw new TypeError(`contract '${name}': '${fn}' must be declared with rpc({...})`);
  }
  return { kind: 'contract', name, functions, compatibility: compatibilityOf(options.compatibility, `contract '${name}'`) };
}

/** What a caller passes: the schema's input side (before defaults and coercion). */
export type InputOf<R> = R extends RpcDef<infer I, z.ZodType, string> ? z.input<I> : never;
/** What a handler receives: the schema's parsed output side. */
export type ParsedInputOf<R> = R extends RpcDef<infer I, z.ZodType, string> ? z.output<I> : never;
export type OutputOf<R> = R extends RpcDef<z.ZodType, infer O, string> ? z.output<O> : never;
export type ErrorsOf<R> = R extends RpcDef<z.ZodType, z.ZodType, infer E> ? E : never;

/** Per-call options a caller may pass. */
export interface CallOptions {
  /** Milliseconds this call may take; never more than what is left of the caller's deadline. */
  timeoutMs?: number;
  /** Makes a repeated call return the first result (honoured by idempotent handlers). */
  idempotencyKey?: string;
}

/** The typed client of a contract, as `ctx.call.<service>` exposes it. */
export type Client<C extends Contract> = {
  readonly [K in keyof C['functions']]: (input: InputOf<C['functions'][K]>, options?: CallOptions) => Promise<OutputOf<C['functions'][K]>>;
};
