import { z } from 'zod';
import { contract, rpc } from './contract.ts';
import { handler } from './handler.ts';
import { implement } from './service.ts';
import { table } from './table.ts';

const Inventory = contract('inventory', {
  reserve: rpc({ input: z.object({ itemId: z.string(), qty: z.number().int() }), output: z.boolean(), errors: { OUT_OF_STOCK: 409 } }),
});
const Stock = table('stock', { key: 'itemId', schema: z.object({ itemId: z.string(), count: z.number().int() }) });
const Other = table('other', { key: 'id', schema: z.object({ id: z.string() }) });

const Orders = contract('orders', {
  checkout: rpc({ input: z.object({ orderId: z.string() }), output: z.object({ ok: z.boolean() }), errors: { FAILED: 409 } }),
});

export const inv = implement(Inventory, {
  stores: [Stock],
}).handlers({
    reserve: handler({ updates: [Stock] }, async (input, ctx) => {
      const s = await ctx.store.stock.get(input.itemId);
      if (!s || s.count < input.qty) throw ctx.reject('OUT_OF_STOCK', 'no');
      await ctx.store.stock.update(input.itemId, { count: s.count - input.qty });
      return true;
    }),
});

export const ord = implement(Orders, {
  integrations: [Inventory],
  stores: [Other],
  config: z.object({ x: z.number() }),
}).handlers({
    checkout: handler({ calls: [Inventory], reads: [Other] }, async (input, ctx) => {
      const ok: boolean = await ctx.call.inventory.reserve({ itemId: input.orderId, qty: 1 });
      const n: number = ctx.config.x;
      // @ts-expect-error read-only
      await ctx.store.other.insert({ id: 'x' });
      // @ts-expect-error undeclared
      ctx.store.stock;
      // @ts-expect-error wrong code
      ctx.reject('NOPE', 'x');
      return { ok: ok && n > 0 };
    }),
});

export const bad = implement(Orders, {
  integrations: [],
}).handlers({
    // @ts-expect-error calls not in integrations
    checkout: handler({ calls: [Inventory] }, async (input, ctx) => ({ ok: input.orderId === '' })),
});
export const bad2 = implement(Orders, {
}).handlers({
    // @ts-expect-error wrong output
    checkout: handler({}, async () => ({ ok: 'yes' })),
});
