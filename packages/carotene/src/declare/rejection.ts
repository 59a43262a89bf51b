import { CaroteneError } from '../errors.ts';
import type { ErrorsOf, RpcDef } from './contract.ts';

/** A declared domain error of a provider's function, as its caller catches it. */
export type Rejection<Code extends string = string> = CaroteneError<Code> & { readonly domain: true };

/**
 * True when `err` is one of the domain errors that `fn` declares (`errors: { OUT_OF_STOCK: 409 }`),
 * narrowed to it; with `codes`, only those. A code `fn` does not declare does not compile,
 * so renaming an error in the provider's contract breaks the caller at `tsc`.
 *
 * ```ts
 * try { await ctx.call.catalog.reserveStock(input) }
 * catch (err) {
 *   if (isRejection(err, Catalog.functions.reserveStock, 'OUT_OF_STOCK')) throw ctx.fail('out of stock');
 *   throw err;
 * }
 * ```
 */
export function isRejection<R extends RpcDef, const C extends ErrorsOf<R> = ErrorsOf<R>>(err: unknown, fn: R, ...codes: C[]): err is Rejection<C> {
  // a domain error is the provider's own; the same code raised as a platform error is not one
  if (!(err instanceof CaroteneError) || !err.domain || !Object.hasOwn(fn.errors, err.code)) return false;
  return codes.length === 0 || (codes as string[]).includes(err.code);
}
