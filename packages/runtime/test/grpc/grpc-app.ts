// A catalog served over gRPC, its callers (one allowed, one not) and a dependency for the
// deadline test; plus the catalog as protobuf (descriptors for the server, text for clients).
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { isCaroteneError } from '../../../carotene/src/errors.ts';
import { app, contract, handler, implement, rpc } from '../../../carotene/src/index.ts';
import { contractProto } from '../../src/grpc/index.ts';

export const Pricing = contract('pricing', {
  quote: rpc({ input: z.object({ productId: z.string() }), output: z.object({ price: z.number() }) }),
});

export const Catalog = contract('catalog', {
  getProduct: rpc({
    input: z.object({ productId: z.string().min(1) }),
    output: z.object({ productId: z.string(), name: z.string(), price: z.number() }),
    errors: { UNKNOWN_PRODUCT: 404 },
  }),
  reserve: rpc({
    input: z.object({ productId: z.string().min(1), qty: z.number().int().min(1).max(1000) }),
    output: z.object({ reserved: z.number().int() }),
    errors: { OUT_OF_STOCK: 409 },
  }),
  slow: rpc({ input: z.object({ ms: z.number().int().min(0).max(60_000) }), output: z.object({ done: z.boolean() }) }),
});

export const Shop = contract('shop', { ping: rpc({ input: z.object({}), output: z.null() }) });
export const Intruder = contract('intruder', { ping: rpc({ input: z.object({}), output: z.null() }) });

/** What the slow handler saw after its sleep: the outcome of its next ctx.call. */
export const observed: string[] = [];

export const pricing = implement(Pricing, {}).handlers({
  quote: handler({}, async () => ({ price: 9.5 })),
});

export const catalog = implement(Catalog, { integrations: [Pricing] }).handlers({
  getProduct: handler({ calls: [Pricing] }, async ({ productId }, ctx) => {
    if (productId === 'missing') throw ctx.reject('UNKNOWN_PRODUCT', `no product ${productId}`);
    const { price } = await ctx.call.pricing.quote({ productId });
    return { productId, name: `product ${productId} for ${ctx.caller} (${ctx.requestId})`, price };
  }),
  reserve: handler({}, async ({ qty }, ctx) => {
    if (qty > 10) throw ctx.reject('OUT_OF_STOCK', `only 10 left, ${qty} asked`);
    return { reserved: qty };
  }),
  slow: handler({ calls: [Pricing] }, async ({ ms }, ctx) => {
    await sleep(ms);
    try {
      await ctx.call.pricing.quote({ productId: 'after-sleep' });
      observed.push('called');
    } catch (err) {
      observed.push(isCaroteneError(err) ? err.code : String(err));
      throw err;
    }
    return { done: true };
  }),
});

export const shop = implement(Shop, { integrations: [Catalog] }).handlers({ ping: handler({}, async () => null) });
export const intruder = implement(Intruder, {}).handlers({ ping: handler({}, async () => null) });

export default app({ name: 'grpcapp', services: [catalog, pricing, shop, intruder] });

/** The catalog as protobuf (numbers in declaration order, as a first `carrot contracts proto` gives them). */
export const catalogProto = contractProto(Catalog);
