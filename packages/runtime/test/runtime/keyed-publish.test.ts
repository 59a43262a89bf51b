import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { contract, event, handler, implement, rpc } from '../../../carotene/src/index.ts';
import { migrateEventTables } from '../../src/events/platform-tables.ts';
import type { EventSink } from '../../src/service/handler-context.ts';
import { createLogger } from '../../src/service/logger.ts';
import { ServiceRuntime } from '../../src/service/service-runtime.ts';
import { openStore } from '../../src/store/driver.ts';
import type { Transport } from '../../src/transport/transport.ts';

const Done = event('ledger', 'Done', { version: 1, schema: z.object({ n: z.number() }) });
const Ledger = contract('ledger', {
  book: rpc({ input: z.object({ n: z.number(), publish: z.boolean(), fail: z.boolean() }), output: z.number(), errors: { REFUSED: 409 } }),
});
const ledger = implement(Ledger, { publishes: [Done] }).handlers({
  book: handler({ publishes: [Done] }, async ({ n, publish, fail }, ctx) => {
    await ctx.transaction(async () => {
      if (publish) await ctx.publish(Done, { n });
    });
    if (fail) throw ctx.reject('REFUSED', 'no');
    return n;
  }),
});

test('a keyed call wakes the relay once when it published, never on a replay, a refusal or a call that published nothing', async () => {
  const store = await openStore({ file: ':memory:' });
  await migrateEventTables(store.db, store.kind, 'ledger');
  let published = 0;
  let wakes = 0;
  const sink: EventSink = {
    publish: async () => void published++,
    committed: () => void wakes++,
  };
  const transport: Transport = { call: () => Promise.reject(new Error('no calls')), close: async () => {} };
  const runtime = new ServiceRuntime({ def: ledger, store, transport, config: undefined, log: createLogger('ledger', 'silent'), events: sink });
  const meta = (key?: string) => ({ caller: 'shop', requestId: 'r', deadline: Date.now() + 5_000, idempotencyKey: key });
  try {
    assert.equal(await runtime.invoke('book', { n: 1, publish: true, fail: false }, meta('k1')), 1);
    assert.deepEqual({ published, wakes }, { published: 1, wakes: 1 });
    assert.equal(await runtime.invoke('book', { n: 1, publish: true, fail: false }, meta('k1')), 1, 'the first answer');
    assert.deepEqual({ published, wakes }, { published: 1, wakes: 1 }, 'a replay runs nothing and wakes nothing');
    await runtime.invoke('book', { n: 2, publish: false, fail: false }, meta('k2'));
    assert.equal(wakes, 1, 'nothing published, nothing to wake');
    await assert.rejects(runtime.invoke('book', { n: 3, publish: true, fail: true }, meta('k3')), { code: 'REFUSED' });
    assert.equal(wakes, 1, 'a refused call rolled its event back');
    await runtime.invoke('book', { n: 4, publish: true, fail: false }, meta());
    assert.equal(wakes, 2, 'an unkeyed call wakes it after its own transaction');
  } finally {
    await store.close();
  }
});
