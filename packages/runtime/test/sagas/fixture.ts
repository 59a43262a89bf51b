// Three in-process services for saga tests: `shop` orchestrates a `buy` saga over `stock`
// and `bank`, whose handlers are deliberately NOT idempotent by themselves, so only the
// platform's idempotency keys keep a retried step from taking stock or money twice.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import { contract, handler, implement, isRejection, rpc, saga, table, type Migration } from '../../../carotene/src/index.ts';
import type { ServiceDef } from '../../../carotene/src/declare/service.ts';
import { platformError } from '../../../carotene/src/errors.ts';
import { migrateEventTables } from '../../src/events/platform-tables.ts';
import { createLogger } from '../../src/service/logger.ts';
import { ServiceRuntime } from '../../src/service/service-runtime.ts';
import type { StoreDriver } from '../../src/store/driver.ts';
import { migrate } from '../../src/store/migrations.ts';
import type { CallMeta, Transport } from '../../src/transport/transport.ts';

export const Stock = contract('stock', {
  reserve: rpc({
    input: z.object({ orderId: z.string(), qty: z.number().int() }),
    output: z.object({ left: z.number().int() }),
    errors: { OUT_OF_STOCK: 409 },
  }),
  release: rpc({ input: z.object({ orderId: z.string() }), output: z.object({ released: z.boolean() }) }),
});
export const Bank = contract('bank', {
  pay: rpc({ input: z.object({ orderId: z.string(), amount: z.number().int() }), output: z.object({ paymentId: z.string() }), errors: { DECLINED: 402 } }),
  refund: rpc({ input: z.object({ orderId: z.string() }), output: z.object({ refunded: z.number().int() }) }),
});
export const Shop = contract('shop', {
  buy: rpc({
    input: z.object({ orderId: z.string(), qty: z.number().int(), amount: z.number().int() }),
    output: z.object({ sagaId: z.string(), status: z.string() }),
  }),
  buyLater: rpc({ input: z.object({ orderId: z.string(), qty: z.number().int(), amount: z.number().int() }), output: z.object({ sagaId: z.string() }) }),
});

const Item = table('items', { key: 'id', schema: z.object({ id: z.string(), stock: z.number().int() }) });
const Hold = table('holds', { key: 'id', schema: z.object({ id: z.string(), qty: z.number().int() }) });
const Payment = table('payments', { key: 'id', schema: z.object({ id: z.string(), orderId: z.string(), amount: z.number().int(), refunded: z.boolean() }) });
const Order = table('orders', {
  key: 'id',
  schema: z.object({ id: z.string(), status: z.string(), reason: z.string().nullable(), receipt: z.string().nullable().default(null) }),
});

const tables = (...defs: [string, string][]): Record<string, Migration> => ({
  '0001': {
    async up(db) {
      for (const [name, columns] of defs) await sql.raw(`create table ${name} (${columns})`).execute(db);
    },
  },
});

export const stock = implement(Stock, {
  stores: [Item, Hold],
  migrations: tables(['items', 'id text primary key, stock integer not null'], ['holds', 'id text primary key, qty integer not null']),
}).handlers({
  reserve: handler({ updates: [Item, Hold] }, async ({ orderId, qty }, ctx) => {
    const taken = await ctx.store.items
      .modify()
      .set((eb) => ({ stock: eb('stock', '-', qty) }))
      .where('id', '=', 'widget')
      .where('stock', '>=', qty)
      .executeTakeFirst();
    if (taken.numUpdatedRows === 0n) throw ctx.reject('OUT_OF_STOCK', 'not enough widgets');
    const held = await ctx.store.holds.get(orderId);
    if (held) await ctx.store.holds.update(orderId, { qty: held.qty + qty });
    else await ctx.store.holds.insert({ id: orderId, qty });
    return { left: (await ctx.store.items.get('widget'))!.stock };
  }),
  release: handler({ updates: [Item, Hold] }, async ({ orderId }, ctx) => {
    const held = await ctx.store.holds.get(orderId);
    if (!held) return { released: false };
    await ctx.store.holds.delete(orderId);
    await ctx.store.items
      .modify()
      .set((eb) => ({ stock: eb('stock', '+', held.qty) }))
      .where('id', '=', 'widget')
      .execute();
    return { released: true };
  }),
});

export const bank = implement(Bank, {
  stores: [Payment],
  migrations: tables(['payments', 'id text primary key, "orderId" text not null, amount integer not null, refunded boolean not null']),
}).handlers({
  pay: handler({ updates: [Payment] }, async ({ orderId, amount }, ctx) => {
    if (amount > 1000) throw ctx.reject('DECLINED', 'over the limit');
    const row = await ctx.store.payments.insert({ id: `pay_${randomUUID()}`, orderId, amount, refunded: false });
    return { paymentId: row.id };
  }),
  refund: handler({ updates: [Payment] }, async ({ orderId }, ctx) => {
    const result = await ctx.store.payments.modify().set({ refunded: true }).where('orderId', '=', orderId).where('refunded', '=', false).executeTakeFirst();
    return { refunded: Number(result.numUpdatedRows) };
  }),
});

/** Saga deadline of the fixture; tests that wait for it use a short one. */
export const BUY_TIMEOUT_MS = Number(process.env.SAGA_TEST_TIMEOUT_MS ?? 3_000);

export const Buy = saga('buy', { input: Shop.functions.buy.input, calls: [Stock, Bank], updates: [Order], timeout: BUY_TIMEOUT_MS })
  .step('reserve', {
    run: (input, ctx) => ctx.call.stock.reserve({ orderId: input.orderId, qty: input.qty }),
    compensate: (input, ctx) => ctx.call.stock.release({ orderId: input.orderId }),
    retry: { backoffMs: 20, maxBackoffMs: 100 },
  })
  .step('pay', {
    run: async (input, ctx) => {
      try {
        return await ctx.call.bank.pay({ orderId: input.orderId, amount: input.amount });
      } catch (err) {
        if (isRejection(err, Bank.functions.pay, 'DECLINED')) throw ctx.fail('card declined');
        throw err;
      }
    },
    compensate: (input, ctx) => ctx.call.bank.refund({ orderId: input.orderId }),
    retry: { backoffMs: 20, maxBackoffMs: 100 },
  })
  .step('confirm', {
    // the earlier steps' results, typed, as stored in the instance (also after a resume)
    run: (input, ctx) =>
      ctx.transaction(async (store) => {
        await beforeConfirm.hook?.();
        return store.orders.update(input.orderId, { status: 'CONFIRMED', receipt: `${ctx.results.pay.paymentId} left ${ctx.results.reserve.left}` });
      }),
  });

/** A test's stand-in for the confirm step's own code going wrong (set it, and unset it after). */
export const beforeConfirm: { hook: (() => unknown) | undefined } = { hook: undefined };

export const shop = implement(Shop, {
  stores: [Order],
  integrations: [Stock, Bank],
  sagas: [Buy],
  migrations: tables(['orders', 'id text primary key, status text not null, reason text, receipt text']),
}).handlers({
  buy: handler({ updates: [Order], sagas: [Buy] }, async (input, ctx) => {
    await ctx.store.orders.insert({ id: input.orderId, status: 'PENDING', reason: null });
    const outcome = await ctx.saga(Buy, input, { key: input.orderId });
    return { sagaId: outcome.id, status: outcome.status };
  }),
  buyLater: handler({ updates: [Order], sagas: [Buy] }, async (input, ctx) => {
    await ctx.store.orders.insert({ id: input.orderId, status: 'PENDING', reason: null });
    return { sagaId: await ctx.startSaga(Buy, input, { key: input.orderId }) };
  }),
});

/**
 * What a participant does with a call: answer, be down, do the work and lose the answer, or
 * refuse it with a 4xx-class platform error (CONFLICT) without doing anything.
 */
export type Fault = 'down' | 'lose-answer' | 'refuse' | undefined;

/** Calls between the fixture's runtimes, with faults per `service.fn`. */
export class FaultyTransport implements Transport {
  readonly runtimes = new Map<string, ServiceRuntime>();
  readonly faults = new Map<string, (n: number) => Fault>();
  readonly calls: { service: string; fn: string; key: string | undefined }[] = [];

  async call(service: string, fn: string, input: unknown, meta: CallMeta): Promise<unknown> {
    this.calls.push({ service, fn, key: meta.idempotencyKey });
    const n = this.calls.filter((c) => c.service === service && c.fn === fn).length;
    const fault = this.faults.get(`${service}.${fn}`)?.(n);
    const runtime = this.runtimes.get(service);
    if (!runtime || fault === 'down') throw platformError('UNAVAILABLE', `${service} is down`, { service });
    if (fault === 'refuse') throw platformError('CONFLICT', `${service}.${fn} conflicts with a write of another request`, { service });
    const out = await runtime.invoke(fn, JSON.parse(JSON.stringify(input)), meta);
    if (fault === 'lose-answer') throw platformError('UNAVAILABLE', `connection to ${service} reset after it answered`, { service });
    return JSON.parse(JSON.stringify(out)) as unknown;
  }
  async close(): Promise<void> {}
}

const log = createLogger('saga-test', process.env.CAROTENE_TEST_LOG_LEVEL ?? 'silent');

/** Opens, migrates and runs one fixture service on `store`. */
export async function runService(def: ServiceDef, store: StoreDriver, transport: FaultyTransport): Promise<ServiceRuntime> {
  await migrate(store.db, def.migrations, def.name);
  await migrateEventTables(store.db, store.kind, def.name);
  const runtime = new ServiceRuntime({ def, store, transport, config: undefined, log });
  if (def.name !== 'shop') transport.runtimes.set(def.name, runtime);
  return runtime;
}
