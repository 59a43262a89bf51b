// A saga's steps continue the trace of the call that started it: the trace context is kept
// with the instance (so a runner that adopts it after a restart continues it too), and each
// step's calls carry it, with no context manager (tracing not exported).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openStore, type StoreDriver } from '../../src/store/driver.ts';
import { parseTraceparent } from '../../src/telemetry/trace-context.ts';
import { startTracing } from '../../src/telemetry/tracing.ts';
import type { CallMeta } from '../../src/transport/transport.ts';
import { bank, FaultyTransport, runService, shop, stock } from '../sagas/fixture.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

/** The fixture's transport, remembering what travelled with each call. */
class RecordingTransport extends FaultyTransport {
  readonly metas: Array<{ fn: string; meta: CallMeta }> = [];
  override async call(service: string, fn: string, input: unknown, meta: CallMeta): Promise<unknown> {
    this.metas.push({ fn: `${service}.${fn}`, meta });
    return super.call(service, fn, input, meta);
  }
}

describe('saga trace context', () => {
  const stores: StoreDriver[] = [];
  const tracing = startTracing({ service: 'saga-trace' });
  after(async () => {
    await tracing.shutdown();
    for (const s of stores) await s.close();
  });

  it('keeps the starting trace with the instance and carries it on every step call', async () => {
    const transport = new RecordingTransport();
    const open = async () => {
      const s = await openStore({ file: ':memory:' });
      stores.push(s);
      return s;
    };
    const stockStore = await open();
    await runService(stock, stockStore, transport);
    await sql`insert into items (id, stock) values ('widget', 10)`.execute(stockStore.db);
    await runService(bank, await open(), transport);
    const shopStore = await open();
    const orchestrator = await runService(shop, shopStore, transport);
    try {
      const out = (await orchestrator.invoke(
        'buy',
        { orderId: 'o1', qty: 1, amount: 5 },
        {
          caller: 'gateway',
          requestId: 'r1',
          deadline: Date.now() + 5_000,
          traceparent: `00-${TRACE}-00f067aa0ba902b7-01`,
        },
      )) as { status: string };
      assert.equal(out.status, 'completed');
      const stepCalls = transport.metas.filter((m) => m.fn === 'stock.reserve' || m.fn === 'bank.pay');
      assert.deepEqual(stepCalls.map((m) => m.fn).sort(), ['bank.pay', 'stock.reserve']);
      for (const { fn, meta } of stepCalls) assert.equal(parseTraceparent(meta.traceparent)?.traceId, TRACE, `${fn} continues the trace`);
      const row = await sql<{ traceparent: string | null }>`select traceparent from carotene_sagas`.execute(shopStore.db);
      assert.equal(parseTraceparent(row.rows[0]?.traceparent ?? undefined)?.traceId, TRACE, 'kept with the instance');
    } finally {
      await orchestrator.sagas?.close();
    }
  });
});
