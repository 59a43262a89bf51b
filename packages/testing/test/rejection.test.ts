import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { CaroteneError, contract, handler, implement, isRejection, rpc } from '../../carotene/src/index.ts';
import { testService } from '../src/index.ts';

const Inventory = contract('inventory', {
  reserveStock: rpc({ input: z.object({ itemId: z.string() }), output: z.boolean(), errors: { OUT_OF_STOCK: 409, DISCONTINUED: 410 } }),
  releaseStock: rpc({ input: z.object({ itemId: z.string() }), output: z.boolean(), errors: { NOT_HELD: 404 } }),
});
const reserve = Inventory.functions.reserveStock;

test('isRejection matches a declared domain error of the function, and only that', () => {
  const outOfStock = new CaroteneError('OUT_OF_STOCK', 'none left', { domain: true, status: 409, service: 'inventory' });
  assert.equal(isRejection(outOfStock, reserve, 'OUT_OF_STOCK'), true);
  assert.equal(isRejection(outOfStock, reserve), true, 'no code: any declared one');
  assert.equal(isRejection(outOfStock, reserve, 'DISCONTINUED'), false);
  assert.equal(isRejection(outOfStock, reserve, 'DISCONTINUED', 'OUT_OF_STOCK'), true);
  // the same code, but not declared by this function, or not a domain error, or not an error of ours
  assert.equal(isRejection(outOfStock, Inventory.functions.releaseStock), false);
  assert.equal(isRejection(new CaroteneError('OUT_OF_STOCK', 'x'), reserve), false);
  assert.equal(isRejection(Object.assign(new Error('x'), { code: 'OUT_OF_STOCK', domain: true }), reserve), false);
  assert.equal(isRejection(undefined, reserve), false);
});

test("a caller narrows what the provider's mock rejected with, and answers from its code", async () => {
  const Orders = contract('orders', { checkout: rpc({ input: z.object({ itemId: z.string() }), output: z.object({ status: z.string() }) }) });
  const orders = implement(Orders, { integrations: [Inventory] }).handlers({
    checkout: handler({ calls: [Inventory] }, async ({ itemId }, ctx) => {
      try {
        await ctx.call.inventory.reserveStock({ itemId });
        return { status: 'RESERVED' };
      } catch (err) {
        if (isRejection(err, reserve)) return { status: `${err.code} ${err.status}` };
        throw err;
      }
    }),
  });
  const t = await testService(orders, {
    mock: {
      inventory: {
        reserveStock: (_i, { reject }) => {
          throw reject('DISCONTINUED', 'gone');
        },
      },
    },
  });
  try {
    assert.deepEqual(await t.call.checkout({ itemId: 'i1' }), { status: 'DISCONTINUED 410' });
  } finally {
    await t.close();
  }
});
