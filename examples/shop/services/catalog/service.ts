import { randomUUID } from 'node:crypto';
import { handler, implement, isCaroteneError, subscriber, type RowOf } from 'carotene';
import { OrderConfirmed } from '../orders/events.ts';
import { Catalog } from './contract.ts';
import { migrations } from './migrations/index.ts';
import { releaseLines, reserveLines } from './stock.ts';
import { ProductTable, ReservationTable } from './tables.ts';

type ProductRow = RowOf<typeof ProductTable>;

const summary = ({ id, name, price, stock }: ProductRow) => ({ id, name, price, stock });
const details = ({ id, name, description, price, stock, sold }: ProductRow) => ({ id, name, description, price, stock, sold });

/**
 * A search term as a LIKE pattern that matches it anywhere. The wildcard characters are dropped
 * rather than escaped: SQLite and PostgreSQL disagree on LIKE's default escape character.
 */
function containsPattern(q: string): string {
  return `%${q.toLowerCase().replace(/[%_\\]/g, '')}%`;
}

export default implement(Catalog, {
  stores: [ProductTable, ReservationTable],
  subscribes: [OrderConfirmed],
  migrations,
})
  .subscriptions({
    // a second subscriber of the orders' events: each confirmed order counts its units once
    OrderConfirmed: subscriber({ updates: [ProductTable] }, async ({ data }, ctx) => {
      for (const { productId, qty } of data.items) {
        await ctx.store.products
          .modify()
          .set((eb) => ({ sold: eb('sold', '+', qty) }))
          .where('id', '=', productId)
          .execute();
      }
    }),
  })
  .handlers({
    listProducts: handler({ reads: [ProductTable], route: 'GET /api/products' }, async ({ limit, cursor, q }, ctx) => {
      let query = ctx.store.products
        .query()
        .orderBy('id')
        .limit(limit + 1);
      if (cursor !== undefined) query = query.where('id', '>', cursor);
      if (q) query = query.where((eb) => eb(eb.fn('lower', ['name']), 'like', containsPattern(q)));
      const rows = await query.execute();
      const page = rows.slice(0, limit);
      return { items: page.map(summary), next: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
    }),

    getProduct: handler({ reads: [ProductTable], route: 'GET /api/products/:id' }, async ({ id }, ctx) => {
      const product = await ctx.store.products.get(id);
      if (!product) throw ctx.reject('NOT_FOUND', `No product '${id}'`);
      return details(product);
    }),

    getProducts: handler({ reads: [ProductTable] }, async ({ ids }, ctx) => {
      const rows = await ctx.store.products
        .query()
        .where('id', 'in', [...new Set(ids)])
        .execute();
      return { items: rows.map(summary) };
    }),

    createProduct: handler({ updates: [ProductTable], route: 'POST /api/products', roles: ['admin'], status: 201 }, async (input, ctx) => {
      const product = await ctx.store.products.insert({ id: `p_${randomUUID()}`, ...input, createdAt: new Date().toISOString() });
      return details(product);
    }),

    updateProduct: handler({ updates: [ProductTable], route: 'PATCH /api/products/:id', roles: ['admin'] }, async ({ id, ...patch }, ctx) => {
      const product = await ctx.store.products.update(id, patch);
      if (!product) throw ctx.reject('NOT_FOUND', `No product '${id}'`);
      return details(product);
    }),

    reserveStock: handler({ updates: [ProductTable, ReservationTable] }, async ({ orderId, items }, ctx) => {
      try {
        const outcome = await ctx.transaction(async (store) => {
          const result = await reserveLines(store, orderId, items);
          // Throwing rolls back the lines already taken: all or nothing.
          if (!result.ok) {
            const message = result.code === 'OUT_OF_STOCK' ? `Not enough stock of '${result.productId}'` : `No product '${result.productId}'`;
            throw ctx.reject(result.code, message, { productId: result.productId });
          }
          return result;
        });
        if (outcome.already) ctx.log.info({ orderId }, 'stock already reserved for this order');
      } catch (err) {
        // The same order reserved concurrently and won the race: that reservation stands.
        if (!isCaroteneError(err, 'CONFLICT')) throw err;
      }
      return { reserved: true };
    }),

    releaseStock: handler({ updates: [ProductTable, ReservationTable] }, async ({ orderId }, ctx) => ({
      released: await ctx.transaction((store) => releaseLines(store, orderId)),
    })),
  });
