import type { WriteHandle } from 'carotene';
import type { ProductTable, ReservationTable } from './tables.ts';
import { reservationId } from './tables.ts';

export interface Line {
  readonly productId: string;
  readonly qty: number;
}

export type ReserveOutcome =
  | { readonly ok: true; readonly already: boolean }
  | { readonly ok: false; readonly code: 'OUT_OF_STOCK' | 'UNKNOWN_PRODUCT'; readonly productId: string };

interface Tables {
  readonly products: WriteHandle<typeof ProductTable>;
  readonly reservations: WriteHandle<typeof ReservationTable>;
}

/** One line per product: an order that names a product twice reserves the sum. */
export function mergeLines(lines: readonly Line[]): Line[] {
  const qty = new Map<string, number>();
  for (const line of lines) qty.set(line.productId, (qty.get(line.productId) ?? 0) + line.qty);
  // Sorted, so concurrent reservations lock rows in the same order and cannot deadlock.
  return [...qty].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([productId, n]) => ({ productId, qty: n }));
}

/**
 * Takes stock for every line of an order. Call it inside a transaction: on a failed line the
 * caller throws, and the decrements already made roll back with it.
 *
 * Each decrement is one conditional UPDATE (`stock >= qty`), so two orders racing for the
 * last unit cannot both get it, whatever the isolation level.
 */
export async function reserveLines(store: Tables, orderId: string, lines: readonly Line[]): Promise<ReserveOutcome> {
  if ((await store.reservations.find({ orderId }, { limit: 1 })).length > 0) return { ok: true, already: true };
  for (const { productId, qty } of mergeLines(lines)) {
    const result = await store.products
      .modify()
      .set((eb) => ({ stock: eb('stock', '-', qty) }))
      .where('id', '=', productId)
      .where('stock', '>=', qty)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) {
      const exists = (await store.products.get(productId)) !== undefined;
      return { ok: false, code: exists ? 'OUT_OF_STOCK' : 'UNKNOWN_PRODUCT', productId };
    }
    // A concurrent reservation for the same order makes this insert CONFLICT; the caller settles it.
    await store.reservations.insert({ id: reservationId(orderId, productId), orderId, productId, qty });
  }
  return { ok: true, already: false };
}

/** Gives back the stock an order holds and forgets its reservations. False when it held none. */
export async function releaseLines(store: Tables, orderId: string): Promise<boolean> {
  let released = false;
  for (const r of await store.reservations.find({ orderId })) {
    // Delete first: of two concurrent releases, only the one that removed the row gives the stock back.
    if (!(await store.reservations.delete(r.id))) continue;
    released = true;
    await store.products
      .modify()
      .set((eb) => ({ stock: eb('stock', '+', r.qty) }))
      .where('id', '=', r.productId)
      .execute();
  }
  return released;
}
