import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import shop from '../../../../examples/shop/app.ts';
import type { AppDef } from '../../../carotene/src/declare/app.ts';
import { SagaFeed } from '../../src/dashboard/saga-feed.ts';
import { migrateEventTables, SAGA_STEPS, SAGAS } from '../../../runtime/src/events/platform-tables.ts';
import { openStore, type StoreDriver } from '../../../runtime/src/store/driver.ts';

// The shop's orders service orchestrates the checkout saga; rows as its runner writes them.
describe('SagaFeed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carotene-sagas-'));
  let orders: StoreDriver;
  const open = async (service: string) => {
    assert.equal(service, 'orders', 'only the orchestrator is read');
    return orders;
  };

  before(async () => {
    orders = await openStore({ file: join(dir, 'orders.sqlite') });
    await migrateEventTables(orders.db, orders.kind, 'orders');
    const saga = (id: string, status: string, at: number, ended: boolean, failure: unknown = null) => ({
      id,
      saga: 'checkout',
      status,
      input: JSON.stringify({ orderId: id.split('/')[1] }),
      results: '{}',
      step: ended ? 3 : 1,
      failure: failure === null ? null : JSON.stringify(failure),
      deadline: at + 30_000,
      lease_owner: ended ? null : 'orders-1',
      lease_until: at + 5_000,
      created_at: at,
      updated_at: at + 50,
      ended_at: ended ? at + 60 : null,
    });
    await orders.db
      .insertInto(SAGAS)
      .values([
        saga('checkout/ord_1', 'completed', 1_000, true),
        saga('checkout/ord_2', 'compensated', 2_000, true, { step: 'charge', code: 'CARD_DECLINED', message: 'declined' }),
        saga('checkout/ord_3', 'running', 3_000, false),
      ])
      .execute();
    const step = (sagaId: string, seq: number, name: string, phase: string, status: string, extra = {}) => ({
      seq,
      saga_id: sagaId,
      step: name,
      phase,
      attempt: 1,
      status,
      idempotency_key: `${sagaId}/${name}/${phase}`,
      output: null,
      error: null,
      started_at: 2_000 + seq,
      ended_at: 2_001 + seq,
      ...extra,
    });
    await orders.db
      .insertInto(SAGA_STEPS)
      .values([
        step('checkout/ord_2', 1, 'reserve', 'run', 'done', { output: JSON.stringify({ reserved: true }) }),
        step('checkout/ord_2', 2, 'charge', 'run', 'failed', { error: JSON.stringify({ step: 'charge', code: 'CARD_DECLINED', message: 'declined' }) }),
        step('checkout/ord_2', 3, 'reserve', 'compensate', 'done'),
        step('checkout/ord_3', 4, 'charge', 'run', 'started', { ended_at: null }),
      ])
      .execute();
  });
  after(() => orders.close());

  it('is there only for an app with sagas', () => {
    assert.ok(SagaFeed.of(shop, open));
    const noSagas = { ...shop, services: shop.services.filter((s) => s.kind !== 'service' || (s.sagas ?? []).length === 0) } as AppDef;
    assert.equal(SagaFeed.of(noSagas, open), undefined);
  });

  it('lists the orchestrator’s instances newest first, with the step they are at or why they failed', async () => {
    const list = await SagaFeed.of(shop, open)!.list(10);
    assert.deepEqual(
      list.map((s) => [s.id, s.status, s.service]),
      [
        ['checkout/ord_3', 'running', 'orders'],
        ['checkout/ord_2', 'compensated', 'orders'],
        ['checkout/ord_1', 'completed', 'orders'],
      ],
    );
    assert.equal(list[0]!.step, 'charge');
    assert.deepEqual(list[1]!.failure, { step: 'charge', code: 'CARD_DECLINED', message: 'declined' });
    assert.equal((await SagaFeed.of(shop, open)!.list(1)).length, 1);
  });

  it('shows one instance with every try of its steps and compensations, in order', async () => {
    const saga = (await SagaFeed.of(shop, open)!.show('checkout/ord_2'))!;
    assert.equal(saga.service, 'orders');
    assert.deepEqual(saga.input, { orderId: 'ord_2' });
    assert.deepEqual(
      saga.steps.map((t) => [t.step, t.phase, t.status]),
      [
        ['reserve', 'run', 'done'],
        ['charge', 'run', 'failed'],
        ['reserve', 'compensate', 'done'],
      ],
    );
    assert.deepEqual(saga.steps[0]!.output, { reserved: true });
    assert.equal(saga.steps[1]!.error?.code, 'CARD_DECLINED');
    assert.equal(await SagaFeed.of(shop, open)!.show('checkout/nope'), undefined);
  });
});
