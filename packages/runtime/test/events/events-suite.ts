// One suite for every store engine and event transport: what the outbox, relay and inbox promise.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isCaroteneError } from '../../../carotene/src/errors.ts';
import { listDeadLetters, replayDeadLetters } from '../../src/events/dead-letters.ts';
import type { CloudEvent } from '../../src/events/envelope.ts';
import { type Cluster, eventually } from './cluster.ts';
import { behaviour } from './fixture.ts';

export function eventsSuite(label: string, make: () => Promise<Cluster>): void {
  describe(`events: ${label}`, () => {
    let c: Cluster;
    beforeEach(async () => {
      behaviour.failTimes.clear();
      behaviour.poison.clear();
      c = await make();
      await c.startAll();
    });
    afterEach(() => c.close());

    const place = (orderId: string, seq: number, qty = 1, fail = false) => c.call('shopfront', 'place', { orderId, seq, qty, fail });
    const seen = async (service: string) => (await c.rows(service, 'seen')).map((r) => `${r.orderId}:${r.seq}`).sort();

    it('delivers a committed event once to each subscriber, as a CloudEvent 1.0 envelope', async () => {
      await place('o1', 1, 3);
      await eventually(async () => {
        assert.deepEqual(await seen('sub-a'), ['o1:1']);
        assert.deepEqual(await seen('sub-b'), ['o1:1']);
      });
      const [row] = await c.rows('sub-a', 'carotene_inbox');
      const e = JSON.parse(row.envelope) as CloudEvent;
      assert.equal(e.specversion, '1.0');
      assert.equal(e.type, 'shopfront.Placed');
      assert.equal(e.source, '/services/shopfront');
      assert.equal(e.subject, 'o1');
      assert.equal(e.datacontenttype, 'application/json');
      assert.equal(e.schemaversion, 1);
      assert.match(e.traceparent, /^00-[\da-f]{32}-[\da-f]{16}-03$/, 'sampled and random: a trace begun here');
      assert.ok(!Number.isNaN(Date.parse(e.time)));
      assert.deepEqual(e.data, { orderId: 'o1', seq: 1, qty: 3 });
      assert.equal(row.status, 'done');
      await eventually(async () => {
        const outbox = await c.rows('shopfront', 'carotene_outbox');
        assert.ok(outbox.length > 0 && outbox.every((r) => r.delivered_at !== null), 'the outbox rows are marked delivered');
      });
    });

    it('publishes nothing when the handler fails after publishing', async () => {
      await assert.rejects(place('o2', 1, 1, true), (err) => isCaroteneError(err, 'INTERNAL'));
      await place('o2', 2);
      await eventually(async () => assert.deepEqual(await seen('sub-a'), ['o2:2']));
      assert.deepEqual(
        (await c.rows('shopfront', 'orders')).map((r) => r.id),
        ['o2/2'],
        'the write rolled back with the event',
      );
      assert.equal((await c.rows('shopfront', 'carotene_outbox')).filter((r) => JSON.parse(r.envelope).data.seq === 1).length, 0);
    });

    it('refuses ctx.publish outside ctx.transaction, and without the publishes permission', async () => {
      await assert.rejects(c.call('shopfront', 'placeOutside', {}), (err) => {
        assert.ok(isCaroteneError(err, 'NO_TRANSACTION'), String(err));
        assert.match(err.message, /outside ctx\.transaction/);
        return true;
      });
      await assert.rejects(c.call('shopfront', 'placeUndeclared', {}), (err) => isCaroteneError(err, 'INTERNAL') && /may not publish/.test(err.message));
      assert.equal((await c.rows('shopfront', 'carotene_outbox')).length, 0);
    });

    it('acknowledges a redelivered event without running the subscriber again', async () => {
      await place('o3', 1, 2);
      await eventually(async () => assert.deepEqual(await seen('sub-a'), ['o3:1']));
      const [row] = await c.rows('sub-a', 'carotene_inbox');
      const node = c.nodes.get('sub-a')!;
      // the same envelope again, as after a relay crash between delivery and marking
      await node.events.inbox.accept([JSON.parse(row.envelope) as CloudEvent, JSON.parse(row.envelope) as CloudEvent]);
      node.events.worker!.wake();
      await node.events.worker!.idle();
      assert.deepEqual(await seen('sub-a'), ['o3:1']);
      assert.deepEqual(
        (await c.rows('sub-a', 'totals')).map((r) => r.qty),
        [2],
        'the counter moved once',
      );
    });

    it('handles the events of one key in publish order, under load', async () => {
      const keys = ['k1', 'k2', 'k3', 'k4'];
      behaviour.failTimes.set('sub-a:3', 2); // an early event of k4 needs retries: the later ones of k4 wait
      await Promise.all(
        keys.map(async (k, i) => {
          for (let seq = i; seq < 60; seq += keys.length) await place(k, seq);
        }),
      );
      await eventually(async () => assert.equal((await seen('sub-a')).length, 60), 20_000);
      const totals = await c.rows('sub-a', 'totals');
      for (const [i, k] of keys.entries()) {
        const committed = String(totals.find((t) => t.orderId === k)?.seqs)
          .split(',')
          .map(Number);
        const published = Array.from({ length: 15 }, (_, n) => i + n * keys.length);
        assert.deepEqual(committed, published, `events of ${k} committed in publish order`);
      }
      await eventually(async () => assert.equal((await seen('sub-b')).length, 60));
    });

    it('retries a failing subscriber with backoff until it succeeds', async () => {
      behaviour.failTimes.set('sub-a:1', 2);
      await place('o5', 1);
      await eventually(async () => assert.deepEqual(await seen('sub-a'), ['o5:1']));
      const [row] = await c.rows('sub-a', 'carotene_inbox');
      assert.equal(row.attempts, 3);
      assert.equal(row.status, 'done');
    });

    it('dead-letters a poison event with its error, and replays it once fixed', async () => {
      behaviour.poison.add(7);
      await place('o6', 7);
      await place('o6', 8);
      const node = c.nodes.get('sub-a')!;
      await eventually(async () => {
        const dead = await listDeadLetters(node.store.db);
        assert.equal(dead.length, 1);
        assert.match(dead[0]!.error, /poison 7/);
        assert.equal(dead[0]!.attempts, c.retry.maxAttempts);
      });
      await eventually(async () => assert.deepEqual(await seen('sub-a'), ['o6:8']), 5000);
      behaviour.poison.clear();
      const replayed = await replayDeadLetters(node.store.db, 'all');
      assert.equal(replayed.length, 1);
      node.events.worker!.wake();
      await eventually(async () => assert.deepEqual(await seen('sub-a'), ['o6:7', 'o6:8']));
      assert.equal((await listDeadLetters(node.store.db)).length, 0);
    });

    it('keeps undelivered events through restarts of the subscriber and the publisher', async () => {
      await c.stop('sub-b');
      for (let seq = 0; seq < 10; seq++) await place('o7', seq);
      await eventually(async () => assert.equal((await seen('sub-a')).length, 10));
      await c.stop('shopfront');
      await c.start('shopfront');
      await c.start('sub-b');
      await eventually(async () => assert.equal((await seen('sub-b')).length, 10));
      assert.deepEqual(
        (await c.rows('sub-b', 'totals')).map((r) => r.qty),
        [10],
      );
    });
  });
}
