import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { contract, handler, http, implement, isCaroteneError, rpc, table } from '../../carotene/src/index.ts';
import { testService } from '../src/index.ts';

const Inventory = contract('inventory', {
  reserveStock: rpc({ input: z.object({ itemId: z.string(), qty: z.number().int().positive() }), output: z.boolean(), errors: { OUT_OF_STOCK: 409 } }),
});
const Orders = contract('orders', {
  checkout: rpc({ input: z.object({ orderId: z.string() }), output: z.object({ status: z.string() }), errors: { NOT_FOUND: 404 } }),
  peek: rpc({ input: z.object({ table: z.string() }), output: z.null() }),
  scribble: rpc({ input: z.object({}), output: z.null() }),
  whoami: rpc({ input: z.object({}), output: z.object({ sub: z.string(), greeting: z.string() }) }),
});
const Order = table('orders', { key: 'id', schema: z.object({ id: z.string(), status: z.string(), itemId: z.string() }) });
const Ledger = table('ledger', { key: 'id', schema: z.object({ id: z.string(), note: z.string() }) });

const orders = implement(Orders, {
  stores: [Order, Ledger],
  integrations: [Inventory],
  config: z.object({ greeting: z.string().default('hello') }),
  migrations: {
    '0001': {
      up: async (db) => {
        await db.schema
          .createTable('orders')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('status', 'text')
          .addColumn('itemId', 'text')
          .execute();
        await db.schema
          .createTable('ledger')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('note', 'text')
          .execute();
      },
    },
  },
}).handlers({
  checkout: handler({ updates: [Order], calls: [Inventory] }, async ({ orderId }, ctx) => {
    const order = await ctx.store.orders.get(orderId);
    if (!order) throw ctx.reject('NOT_FOUND', `no order ${orderId}`);
    let status = 'CONFIRMED';
    try {
      if (!(await ctx.call.inventory.reserveStock({ itemId: order.itemId, qty: 1 }))) status = 'FAILED';
    } catch (err) {
      if (!isCaroteneError(err, 'OUT_OF_STOCK')) throw err;
      status = 'OUT_OF_STOCK';
    }
    await ctx.store.orders.update(orderId, { status });
    return { status };
  }),
  // Both escape the types on purpose.
  peek: handler({ reads: [Order] }, async ({ table: name }, ctx) => {
    await (ctx.store as unknown as Record<string, { find(): Promise<unknown> }>)[name]!.find();
    return null;
  }),
  scribble: handler({ reads: [Ledger] }, async (_input, ctx) => {
    await (ctx.store.ledger as unknown as { insert(r: unknown): Promise<unknown> }).insert({ id: 'l1', note: 'x' });
    return null;
  }),
  whoami: handler({ auth: 'required' }, async (_input, ctx) => ({ sub: ctx.auth.sub, greeting: ctx.config.greeting })),
});

const given = { orders: [{ id: 'o1', status: 'PENDING', itemId: 'i1' }] };

describe('testService', () => {
  it('seeds given rows, uses a mocked value, and exposes the store for assertions', async () => {
    const t = await testService(orders, { given, mock: { inventory: { reserveStock: false } } });
    assert.deepEqual(await t.call.checkout({ orderId: 'o1' }), { status: 'FAILED' });
    assert.equal((await t.store.orders.get('o1'))?.status, 'FAILED');
    assert.deepEqual(
      t.calls.map((c) => [c.service, c.fn, c.input]),
      [['inventory', 'reserveStock', { itemId: 'i1', qty: 1 }]],
    );
    await t.close();
  });

  it("computes a mock from its input and raises the provider's domain error", async () => {
    const t = await testService(orders, {
      given,
      mock: {
        inventory: {
          reserveStock: (input, { reject }) => {
            if (input.itemId === 'i1') throw reject('OUT_OF_STOCK', 'none left');
            return true;
          },
        },
      },
    });
    assert.deepEqual(await t.call.checkout({ orderId: 'o1' }), { status: 'OUT_OF_STOCK' });
    await t.close();
  });

  it('refuses a mock whose output breaks the provider contract', async () => {
    const t = await testService(orders, { given, mock: { inventory: { reserveStock: (() => 'yes') as unknown as () => boolean } } });
    await assert.rejects(
      t.call.checkout({ orderId: 'o1' }),
      (err) => isCaroteneError(err, 'INTERNAL') && /did not handle inventory error INVALID_OUTPUT/.test(err.message),
    );
    await t.close();
  });

  it('fails clearly when a called integration is not mocked', async () => {
    const t = await testService(orders, { given });
    await assert.rejects(t.call.checkout({ orderId: 'o1' }), (err) => isCaroteneError(err, 'INTERNAL') && /inventory error NOT_MOCKED/.test(err.message));
    await t.close();
  });

  it('raises declared domain errors with their status', async () => {
    const t = await testService(orders, {});
    await assert.rejects(t.call.checkout({ orderId: 'nope' }), (err) => isCaroteneError(err, 'NOT_FOUND') && err.status === 404 && err.domain);
    await t.close();
  });

  it('refuses at run time a table the handler did not declare, and a write to a read-only table', async () => {
    const t = await testService(orders, {});
    // the service's bug, not the caller's: INTERNAL, with what it reached in the message
    await assert.rejects(t.call.peek({ table: 'ledger' }), (err) => isCaroteneError(err, 'INTERNAL') && /did not declare table 'ledger'/.test(err.message));
    await assert.doesNotReject(t.call.peek({ table: 'orders' }));
    await assert.rejects(t.call.scribble({}), (err) => isCaroteneError(err, 'INTERNAL') && /may only read 'ledger'/.test(err.message));
    assert.equal(await t.store.ledger.get('l1'), undefined, 'nothing was written');
    await t.close();
  });

  it('validates input and passes auth and config to handlers', async () => {
    const t = await testService(orders, { config: { greeting: 'hi' } });
    await assert.rejects(t.call.checkout({ orderId: 3 } as never), (err) => isCaroteneError(err, 'INVALID_INPUT'));
    assert.deepEqual(await t.call.whoami({}, { auth: { sub: 'u1', roles: [], claims: {} } }), { sub: 'u1', greeting: 'hi' });
    await t.close();
  });

  it('rejects an invalid service config with the path named', async () => {
    await assert.rejects(
      testService(orders, { config: { greeting: 5 } as never }),
      (err) => isCaroteneError(err, 'INVALID_CONFIG') && /greeting/.test(err.message),
    );
  });
});

describe('authentication at the service', () => {
  it('refuses a handler that needs a user when the call carries none, and checks roles', async () => {
    const t = await testService(orders, {});
    await assert.rejects(t.call.whoami({}), (err) => isCaroteneError(err, 'UNAUTHENTICATED') && err.status === 401);
    await t.close();
    const Admin = contract('admin', { wipe: rpc({ input: z.object({}), output: z.null() }) });
    const admin = implement(Admin, {}).handlers({ wipe: handler({ roles: ['admin'] }, async () => null) });
    const a = await testService(admin, {});
    await assert.rejects(
      a.call.wipe({}, { auth: { sub: 'u', roles: ['clerk'], claims: {} } }),
      (err) => isCaroteneError(err, 'FORBIDDEN') && /admin/.test(err.message),
    );
    assert.equal(await a.call.wipe({}, { auth: { sub: 'u', roles: ['admin'], claims: {} } }), null);
    await a.close();
  });
});

describe('testService with HTTP integrations', () => {
  const Provider = http('cardProvider', { baseUrl: 'https://api.cards.example/v2', headers: { authorization: 'Bearer k' } });
  const Pay = contract('pay', {
    charge: rpc({ input: z.object({ amount: z.number() }), output: z.object({ id: z.string().nullable(), status: z.number() }) }),
  });
  const pay = implement(Pay, { integrations: [Provider] }).handlers({
    charge: handler({ calls: [Provider] }, async ({ amount }, ctx) => {
      const res = await ctx.http.cardProvider.post('/charges', { json: { amount }, query: { mode: 'test' }, idempotencyKey: 'order-1' });
      return { id: res.ok ? res.json<{ id: string }>().id : null, status: res.status };
    }),
  });

  it('answers from the mock and records the request as the API would see it', async () => {
    const t = await testService(pay, { mock: { cardProvider: (req) => ({ status: 201, json: { id: `ch_${(req.json as { amount: number }).amount}` } }) } });
    try {
      assert.deepEqual(await t.call.charge({ amount: 5 }), { id: 'ch_5', status: 201 });
      const [req] = t.requests;
      assert.equal(req?.integration, 'cardProvider');
      assert.equal(req?.method, 'POST');
      assert.equal(req?.path, '/charges');
      assert.deepEqual(req?.query, { mode: 'test' });
      assert.deepEqual(req?.json, { amount: 5 });
      assert.equal(req?.headers.authorization, 'Bearer k');
      assert.equal(req?.headers['idempotency-key'], 'order-1');
    } finally {
      await t.close();
    }
  });

  it('a declined answer is data; an unmocked integration is NOT_MOCKED', async () => {
    const declined = await testService(pay, { mock: { cardProvider: { status: 402, json: { declined: true } } } });
    try {
      assert.deepEqual(await declined.call.charge({ amount: 5 }), { id: null, status: 402 });
    } finally {
      await declined.close();
    }
    const bare = await testService(pay, {});
    try {
      await assert.rejects(
        bare.call.charge({ amount: 5 }),
        (err: unknown) => isCaroteneError(err, 'INTERNAL') && /cardProvider error NOT_MOCKED/.test(err.message),
      );
      assert.equal(bare.requests.length, 1);
    } finally {
      await bare.close();
    }
  });
});
