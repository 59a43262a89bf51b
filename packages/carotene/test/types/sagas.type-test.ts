// Compile-time guarantees of sagas, checked by `tsc`: each `@ts-expect-error` marks code
// that must NOT compile.
import { z } from 'zod';
import { contract, event, handler, implement, rpc, saga, step, table } from '../../src/index.ts';

const Stock = contract('stock', {
  reserve: rpc({ input: z.object({ orderId: z.string(), qty: z.number().int() }), output: z.object({ reserved: z.boolean() }), errors: { OUT_OF_STOCK: 409 } }),
  release: rpc({ input: z.object({ orderId: z.string() }), output: z.object({ released: z.boolean() }) }),
});
const Bank = contract('bank', { pay: rpc({ input: z.object({ amount: z.number() }), output: z.object({ ok: z.boolean() }) }) });
const Order = table('orders', { key: 'id', schema: z.object({ id: z.string(), status: z.string() }) });
const Audit = table('audit', { key: 'id', schema: z.object({ id: z.string() }) });
const Done = event('shop', 'Done', { version: 1, schema: z.object({ id: z.string() }) });
const Other = event('shop', 'Other', { version: 1, schema: z.object({ id: z.string() }) });

export const Buy = saga('buy', {
  input: z.object({ orderId: z.string(), qty: z.number().int() }),
  calls: [Stock],
  updates: [Order],
  reads: [Audit],
  publishes: [Done],
}).steps([
  step('reserve', {
    run: async (input, ctx) => {
      const out: { reserved: boolean } = await ctx.call.stock.reserve({ orderId: input.orderId, qty: input.qty });
      // @ts-expect-error the input is typed from the saga's schema
      void input.missing;
      // @ts-expect-error a contract the saga does not declare in calls
      await ctx.call.bank.pay({ amount: 1 });
      // @ts-expect-error the input must match the callee's contract
      await ctx.call.stock.reserve({ orderId: input.orderId });
      return out;
    },
    compensate: (input, ctx) => ctx.call.stock.release({ orderId: input.orderId }),
  }),
  step('confirm', {
    run: async (input, ctx) => {
      await ctx.transaction(async (store) => {
        await store.orders.update(input.orderId, { status: 'CONFIRMED' });
        await ctx.publish(Done, { id: input.orderId });
        // @ts-expect-error Other is not among the saga's publishes
        await ctx.publish(Other, { id: input.orderId });
        // @ts-expect-error audit is only read by the saga
        await store.audit.insert({ id: 'x' });
      });
      return null;
    },
  }),
]);

const Shop = contract('shop', { buy: rpc({ input: z.object({ orderId: z.string() }), output: z.object({ status: z.string() }) }) });

export const shop = implement(Shop, { stores: [Order, Audit], integrations: [Stock], publishes: [Done, Other], sagas: [Buy] }).handlers({
  buy: handler({ sagas: [Buy] }, async ({ orderId }, ctx) => {
    const outcome = await ctx.saga(Buy, { orderId, qty: 1 }, { key: orderId });
    const id: string = await ctx.startSaga(Buy, { orderId, qty: 2 });
    // @ts-expect-error the saga's input must match its schema
    await ctx.saga(Buy, { orderId });
    return { status: `${outcome.status} ${id}` };
  }),
});

// A handler without `sagas` cannot start one.
export const noSagas = implement(Shop, { stores: [Order, Audit], integrations: [Stock], publishes: [Done], sagas: [Buy] }).handlers({
  buy: handler({}, async ({ orderId }, ctx) => {
    // @ts-expect-error Buy is not in the handler's sagas
    await ctx.saga(Buy, { orderId, qty: 1 });
    return { status: 'x' };
  }),
});

// A service must integrate with what its sagas call, own what they touch, and publish what they publish.
// @ts-expect-error Buy calls stock, which this service does not integrate with
export const missingIntegration = implement(Shop, { stores: [Order, Audit], publishes: [Done], sagas: [Buy] });
// @ts-expect-error Buy updates orders, which this service does not own
export const missingTable = implement(Shop, { stores: [Audit], integrations: [Stock], publishes: [Done], sagas: [Buy] });

// A handler may start only sagas of its service.
export const notListed = implement(Shop, { stores: [Order, Audit], integrations: [Stock], publishes: [Done] }).handlers({
  // @ts-expect-error Buy is not in the service's sagas
  buy: handler({ sagas: [Buy] }, async () => ({ status: 'x' })),
});
void Bank;

// Steps declared one by one see the earlier steps' results, typed from their `run`.
export const Chained = saga('chained', { input: z.object({ orderId: z.string() }), calls: [Stock, Bank] })
  .step('reserve', {
    run: (input, ctx) => ctx.call.stock.reserve({ orderId: input.orderId, qty: 1 }),
    compensate: async (input, ctx) => {
      // its own output is there only when its run completed
      const own: boolean | undefined = ctx.results.reserve?.reserved;
      // @ts-expect-error a compensation's own result may be missing
      void ctx.results.reserve.reserved;
      void own;
      return ctx.call.stock.release({ orderId: input.orderId });
    },
  })
  .step('pay', {
    run: async (_input, ctx) => {
      const reserved: boolean = ctx.results.reserve.reserved;
      // @ts-expect-error no step named 'charge' runs before this one
      void ctx.results.charge;
      // @ts-expect-error reserved is a boolean, not a string
      const wrong: string = ctx.results.reserve.reserved;
      void wrong;
      return { ...(await ctx.call.bank.pay({ amount: reserved ? 1 : 0 })), at: new Date() };
    },
  })
  .step('confirm', {
    run: async (_input, ctx) => {
      // results are what JSON gives back: a Date is its ISO string
      const at: string = ctx.results.pay.at;
      const ok: boolean = ctx.results.pay.ok;
      // @ts-expect-error a later step's result is not there yet
      void ctx.results.confirm;
      void at;
      void ok;
    },
  });

export const twice = saga('twice', { input: z.object({}) })
  .step('a', { run: async () => 1 })
  // @ts-expect-error two steps cannot share a name
  .step('a', { run: async () => 2 });

// The outcome a handler gets carries the typed results.
export const chainedShop = implement(Shop, { integrations: [Stock, Bank], sagas: [Chained] }).handlers({
  buy: handler({ sagas: [Chained] }, async ({ orderId }, ctx) => {
    const outcome = await ctx.saga(Chained, { orderId });
    if (outcome.status === 'completed') {
      const confirmed: null = outcome.results.confirm;
      void confirmed;
      return { status: outcome.results.pay.at };
    }
    // @ts-expect-error a compensated saga may not have reached pay
    return { status: outcome.results.pay.at };
  }),
});
