import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { testService } from '@carotene/testing';
import { OrderConfirmed, OrderFailed, OrderPlaced } from '../orders/events.ts';
import notifications from './service.ts';

const ann = { auth: { sub: 'usr_ann', roles: [], claims: {} } };
const bob = { auth: { sub: 'usr_bob', roles: [], claims: {} } };
const placed = { orderId: 'ord_1', userId: 'usr_ann', total: 5570, items: [{ productId: 'p_001', qty: 2 }] };

let t: Awaited<ReturnType<typeof start>>;
const start = () => testService(notifications);
beforeEach(async () => {
  t = await start();
});
afterEach(() => t.close());

test('one notification per order event, for the order’s user only', async () => {
  await t.deliver(OrderPlaced, placed, { key: 'ord_1', id: 'evt_1' });
  await t.deliver(OrderConfirmed, placed, { key: 'ord_1', id: 'evt_2' });
  await t.deliver(OrderPlaced, { ...placed, orderId: 'ord_2' }, { key: 'ord_2', id: 'evt_3' });
  await t.deliver(OrderFailed, { orderId: 'ord_2', userId: 'usr_ann', reason: 'card declined' }, { key: 'ord_2', id: 'evt_4' });
  const { items } = await t.call.listNotifications({}, ann);
  assert.deepEqual(items.map((n) => [n.orderId, n.kind]).sort(), [
    ['ord_1', 'ORDER_CONFIRMED'],
    ['ord_1', 'ORDER_PLACED'],
    ['ord_2', 'ORDER_FAILED'],
    ['ord_2', 'ORDER_PLACED'],
  ]);
  assert.match(items.find((n) => n.kind === 'ORDER_FAILED')!.message, /card declined/);
  assert.deepEqual((await t.call.listNotifications({}, bob)).items, []);
});

test('a redelivered event notifies once', async () => {
  await t.deliver(OrderPlaced, placed, { key: 'ord_1', id: 'evt_1' });
  await t.deliver(OrderPlaced, placed, { key: 'ord_1', id: 'evt_1' });
  assert.equal((await t.call.listNotifications({}, ann)).items.length, 1);
});

test('listing needs a user', async () => {
  await assert.rejects(t.call.listNotifications({}), { code: 'UNAUTHENTICATED' });
});
