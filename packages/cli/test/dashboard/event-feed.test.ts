import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import shop from '../../../../examples/shop/app.ts';
import { EventFeed } from '../../src/dashboard/event-feed.ts';
import { DEAD_LETTERS, INBOX, OUTBOX, migrateEventTables } from '../../../runtime/src/events/platform-tables.ts';
import { openStore, type StoreDriver } from '../../../runtime/src/store/driver.ts';

// The shop's real event graph: orders publishes; notifications takes all three order
// events, catalog only OrderConfirmed. Rows are written as the outbox, relay and inbox do.
describe('EventFeed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carotene-feed-'));
  const stores = new Map<string, Promise<StoreDriver>>();
  const open = (service: string) => {
    if (!stores.has(service)) stores.set(service, openStore({ file: join(dir, `${service}.sqlite`) }));
    return stores.get(service)!;
  };
  const feed = new EventFeed(shop, open);
  const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
  const envelope = (id: string, type: string, data: unknown) =>
    JSON.stringify({ specversion: '1.0', id, type, source: '/services/orders', subject: 'ord_1', data, traceparent: `00-${TRACE}-00f067aa0ba902b7-01` });

  before(async () => {
    for (const service of ['orders', 'notifications', 'catalog']) {
      const store = await open(service);
      await migrateEventTables(store.db, store.kind, service);
    }
    const orders = (await open('orders')).db;
    const outbox = (id: string, type: string, destination: string, at: number, delivered: boolean, extra = {}) => ({
      id,
      destination,
      type,
      key: 'ord_1',
      envelope: envelope(id, type, { orderId: 'ord_1', at }),
      created_at: at,
      delivered_at: delivered ? at + 5 : null,
      attempts: 0,
      ...extra,
    });
    await orders
      .insertInto(OUTBOX)
      .values([
        outbox('evt_placed', 'orders.OrderPlaced', 'notifications', 1_000, true),
        outbox('evt_confirmed', 'orders.OrderConfirmed', 'notifications', 2_000, true),
        outbox('evt_confirmed', 'orders.OrderConfirmed', 'catalog', 2_000, false, { attempts: 2, last_error: 'catalog: ECONNREFUSED' }),
      ])
      .execute();
    const inbox = (id: string, type: string, status: string, attempts: number, lastError: string | null) => ({
      id,
      type,
      key: 'ord_1',
      source: '/services/orders',
      envelope: envelope(id, type, {}),
      status,
      attempts,
      next_attempt_at: 0,
      last_error: lastError,
      received_at: 10,
      handled_at: status === 'done' ? 11 : null,
    });
    const notifications = (await open('notifications')).db;
    await notifications
      .insertInto(INBOX)
      .values([inbox('evt_placed', 'orders.OrderPlaced', 'done', 1, null), inbox('evt_confirmed', 'orders.OrderConfirmed', 'dead', 3, 'boom')])
      .execute();
    await notifications
      .insertInto(DEAD_LETTERS)
      .values({
        id: 'evt_confirmed',
        type: 'orders.OrderConfirmed',
        key: 'ord_1',
        source: '/services/orders',
        envelope: envelope('evt_confirmed', 'orders.OrderConfirmed', { orderId: 'ord_1' }),
        error: 'Error: boom',
        attempts: 3,
        failed_at: 3_000,
      })
      .execute();
  });
  after(async () => {
    for (const s of stores.values()) await (await s).close();
  });

  it('lists recent events newest first, with where each subscriber is', async () => {
    const events = await feed.recent(10);
    assert.deepEqual(
      events.map((e) => [e.id, e.type, e.publisher]),
      [
        ['evt_confirmed', 'orders.OrderConfirmed', 'orders'],
        ['evt_placed', 'orders.OrderPlaced', 'orders'],
      ],
    );
    assert.deepEqual(events[0]!.data, { orderId: 'ord_1', at: 2_000 });
    assert.equal(events[0]!.traceId, TRACE, 'the trace it was published in');
    assert.deepEqual(events[0]!.deliveries, [
      { service: 'catalog', state: 'delivering', attempts: 2, error: 'catalog: ECONNREFUSED' },
      { service: 'notifications', state: 'dead', attempts: 3, error: 'boom' },
    ]);
    assert.deepEqual(events[1]!.deliveries, [{ service: 'notifications', state: 'handled', attempts: 1 }]);
    assert.deepEqual(
      (await feed.recent(1)).map((e) => e.id),
      ['evt_confirmed'],
    );
  });

  it('lists dead letters and replays one through the inbox, as carrot events dlq replay does', async () => {
    const dead = await feed.deadLetters();
    assert.deepEqual(
      dead.map((d) => [d.service, d.id, d.error, d.attempts]),
      [['notifications', 'evt_confirmed', 'Error: boom', 3]],
    );
    assert.deepEqual(dead[0]!.data, { orderId: 'ord_1' });
    assert.equal(await feed.replay('notifications', 'nope'), false);
    assert.equal(await feed.replay('unknown-service', 'evt_confirmed'), false);
    assert.equal(await feed.replay('notifications', 'evt_confirmed'), true);
    assert.deepEqual(await feed.deadLetters(), []);
    const row = await (await open('notifications')).db.selectFrom(INBOX).selectAll().where('id', '=', 'evt_confirmed').executeTakeFirstOrThrow();
    assert.equal(row.status, 'pending');
    assert.equal(row.attempts, 0);
    assert.equal((await feed.recent(10))[0]!.deliveries[1]!.state, 'pending');
    assert.equal(await feed.replay('notifications', 'evt_confirmed'), false, 'a dead letter is replayed once');
  });
});
