// Trace context across an event: the producer span's traceparent and tracestate travel in the
// envelope, the subscriber's span continues them, and a malformed traceparent in an envelope
// from a broker starts a new trace instead of costing the event.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import { contract, event, implement, subscriber } from '../../../carotene/src/index.ts';
import { parseEnvelope } from '../../src/events/envelope.ts';
import { Outbox } from '../../src/events/outbox.ts';
import { migrateEventTables, OUTBOX } from '../../src/events/platform-tables.ts';
import { createLogger } from '../../src/service/logger.ts';
import { ServiceRuntime } from '../../src/service/service-runtime.ts';
import { openStore, type StoreDriver } from '../../src/store/driver.ts';
import { parseTraceparent } from '../../src/telemetry/trace-context.ts';
import { startTracing } from '../../src/telemetry/tracing.ts';
import type { CallMeta, Transport } from '../../src/transport/transport.ts';
import { Echo } from '../fixtures/two-services.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const Rang = event('bell', 'Rang', { version: 1, schema: z.object({ n: z.number() }) });
const Listener = contract('listener', {});
const listener = implement(Listener, { subscribes: [Rang], integrations: [Echo] })
  .subscriptions({ Rang: subscriber({ calls: [Echo] }, async (_e, ctx) => void (await ctx.call.echo.echo({ text: 'rang' }))) })
  .handlers({});

describe('event trace context', () => {
  const tracing = startTracing({ service: 'listener' });
  const stores: StoreDriver[] = [];
  after(async () => {
    await tracing.shutdown();
    for (const s of stores) await s.close();
  });

  it('the envelope carries the producer span, with the random flag and tracestate', async () => {
    const store = await openStore({ file: ':memory:' });
    stores.push(store);
    await migrateEventTables(store.db, 'sqlite', 'bell');
    const outbox = new Outbox({ engine: 'sqlite', destinationsOf: () => ['listener'], onCommit: () => undefined });
    await outbox.publish(store.db, Rang, { n: 1 }, undefined, 'bell.ring', { traceparent: `00-${TRACE}-${SPAN}-03`, tracestate: 'congo=a,rojo=b' });
    const row = (await store.db.selectFrom(OUTBOX).select('envelope').executeTakeFirstOrThrow()) as { envelope: string };
    const envelope = parseEnvelope(JSON.parse(row.envelope));
    const out = parseTraceparent(envelope.traceparent)!;
    assert.equal(out.traceId, TRACE);
    assert.notEqual(out.spanId, SPAN, 'the producer span');
    assert.equal(out.flags & 0x02, 0x02, 'random kept');
    assert.equal(envelope.tracestate, 'congo=a,rojo=b');
  });

  it("the subscriber's calls continue the envelope's trace; a malformed traceparent starts a new one", async () => {
    const store = await openStore({ file: ':memory:' });
    stores.push(store);
    const metas: CallMeta[] = [];
    const transport: Transport = {
      call: async (_s, _f, input, meta) => (metas.push(meta), { text: (input as { text: string }).text, caller: 'listener' }),
      close: async () => undefined,
    };
    const log = createLogger('listener', 'error');
    const runtime = new ServiceRuntime({ def: listener, store, transport, config: undefined, log });
    const base = { specversion: '1.0', source: '/services/bell', type: 'bell.Rang', time: new Date().toISOString(), datacontenttype: 'application/json' };
    const received = parseEnvelope({
      ...base,
      id: 'e1',
      subject: 'e1',
      data: { n: 1 },
      schemaversion: 1,
      traceparent: `00-${TRACE}-${SPAN}-01`,
      tracestate: 'congo=a',
    });
    await store.db.transaction().execute((trx) => runtime.handleEvent(trx, received, 1));
    assert.equal(parseTraceparent(metas[0]!.traceparent)!.traceId, TRACE);
    assert.equal(metas[0]!.tracestate, 'congo=a');
    const malformed = parseEnvelope({
      ...base,
      id: 'e2',
      subject: 'e2',
      data: { n: 2 },
      schemaversion: 1,
      traceparent: 'not-a-traceparent',
      tracestate: 'congo=a',
    });
    await store.db.transaction().execute((trx) => runtime.handleEvent(trx, malformed, 1));
    const fresh = parseTraceparent(metas[1]!.traceparent);
    assert.ok(fresh && fresh.traceId !== TRACE, 'a new trace');
    assert.equal(metas[1]!.tracestate, undefined, 'its tracestate dropped with it');
  });
});
