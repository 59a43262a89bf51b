// A publisher and two subscribers, in-process, for the shared events suite.
import { z } from 'zod';
import { app, contract, event, handler, implement, rpc, subscriber, table } from '../../../carotene/src/index.ts';

export const Placed = event('shopfront', 'Placed', { version: 1, schema: z.object({ orderId: z.string(), seq: z.number().int(), qty: z.number().int() }) });

export const Shopfront = contract('shopfront', {
  place: rpc({ input: z.object({ orderId: z.string(), seq: z.number().int(), qty: z.number().int(), fail: z.boolean().default(false) }), output: z.null() }),
  placeOutside: rpc({ input: z.object({}), output: z.null() }),
  placeUndeclared: rpc({ input: z.object({}), output: z.null() }),
});

const Orders = table('orders', { key: 'id', schema: z.object({ id: z.string(), qty: z.number().int() }) });
const createOrders = {
  '0001': {
    up: (db: never) =>
      (db as import('kysely').Kysely<never>).schema
        .createTable('orders')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('qty', 'integer')
        .execute(),
  },
};

export const shopfront = implement(Shopfront, { stores: [Orders], publishes: [Placed], migrations: createOrders }).handlers({
  place: handler({ updates: [Orders], publishes: [Placed] }, async ({ orderId, seq, qty, fail }, ctx) => {
    await ctx.transaction(async (store) => {
      await store.orders.insert({ id: `${orderId}/${seq}`, qty });
      await ctx.publish(Placed, { orderId, seq, qty }, { key: orderId });
      if (fail) throw new Error('the handler failed after publishing');
    });
    return null;
  }),
  placeOutside: handler({ publishes: [Placed] }, async (_input, ctx) => {
    await ctx.publish(Placed, { orderId: 'o', seq: 0, qty: 1 }, { key: 'o' });
    return null;
  }),
  placeUndeclared: handler({}, async (_input, ctx) => {
    await ctx.transaction(() => (ctx.publish as unknown as (e: unknown, p: unknown) => Promise<void>)(Placed, { orderId: 'o', seq: 0, qty: 1 }));
    return null;
  }),
});

const Seen = table('seen', { key: 'id', schema: z.object({ id: z.string(), orderId: z.string(), seq: z.number().int(), at: z.number().int() }) });
/** `seqs` lists the events of a key in the order their transactions committed. */
const Totals = table('totals', { key: 'orderId', schema: z.object({ orderId: z.string(), qty: z.number().int(), seqs: z.string() }) });
const createSeen = {
  '0001': {
    async up(db: import('kysely').Kysely<never>) {
      await db.schema
        .createTable('seen')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('orderId', 'text')
        .addColumn('seq', 'integer')
        .addColumn('at', 'bigint')
        .execute();
      await db.schema
        .createTable('totals')
        .addColumn('orderId', 'text', (c) => c.primaryKey())
        .addColumn('qty', 'integer')
        .addColumn('seqs', 'text')
        .execute();
    },
  },
};

/** Behaviour the tests switch at run time (`failTimes` is keyed `<service>:<seq>`). */
export const behaviour = { failTimes: new Map<string, number>(), poison: new Set<number>() };

const Nothing = (name: string) => contract(name, { ping: rpc({ input: z.object({}), output: z.null() }) });

function subscriberService(name: string) {
  return implement(Nothing(name), { stores: [Seen, Totals], subscribes: [Placed], migrations: createSeen as never })
    .subscriptions({
      Placed: subscriber({ updates: [Seen, Totals] }, async (e, ctx) => {
        const left = behaviour.failTimes.get(`${name}:${e.data.seq}`) ?? 0;
        if (left > 0) {
          behaviour.failTimes.set(`${name}:${e.data.seq}`, left - 1);
          throw new Error(`transient failure of ${e.data.seq}`);
        }
        if (behaviour.poison.has(e.data.seq)) throw new Error(`poison ${e.data.seq}`);
        await ctx.store.seen.insert({ id: `${e.id}`, orderId: e.data.orderId, seq: e.data.seq, at: Date.now() });
        const t = await ctx.store.totals.get(e.data.orderId);
        if (t) await ctx.store.totals.update(e.data.orderId, { qty: t.qty + e.data.qty, seqs: `${t.seqs},${e.data.seq}` });
        else await ctx.store.totals.insert({ orderId: e.data.orderId, qty: e.data.qty, seqs: String(e.data.seq) });
      }),
    })
    .handlers({ ping: handler({}, () => null) });
}

export const subA = subscriberService('sub-a');
export const subB = subscriberService('sub-b');

export const eventsApp = (name: string) => app({ name, services: [shopfront, subA, subB] });
