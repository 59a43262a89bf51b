import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spansOfExport } from '../../src/dashboard/otlp-spans.ts';
import { TraceStore } from '../../src/dashboard/trace-store.ts';
import { checkoutExports, exportOf, hexId } from './otlp-fixture.ts';

const spansOf = (exports: Array<{ body: unknown }>) => exports.flatMap((e) => spansOfExport(e.body));

describe('TraceStore', () => {
  it('assembles one trace from the exports of several services, and summarises it', () => {
    const store = new TraceStore();
    const { traceId, exports } = checkoutExports(hexId(16), 1_000_000);
    // each process exports on its own schedule: the consumer's span may come first
    for (const e of [...exports].reverse()) store.add(spansOfExport(e.body));
    assert.equal(store.size, 1);
    const summary = store.summary(traceId)!;
    assert.equal(summary.root, 'POST /api/orders/:id/checkout');
    assert.equal(summary.rootService, 'gateway');
    assert.deepEqual(summary.services, ['gateway', 'orders', 'catalog', 'payments', 'notifications']);
    assert.equal(summary.spans, 8);
    assert.equal(summary.errors, 0);
    // from the gateway's start to the end of the notification span (140 + 12 ms)
    assert.ok(Math.abs(summary.durationMs - 152) < 0.01, String(summary.durationMs));
    const { spans } = store.get(traceId)!;
    assert.deepEqual(
      spans.map((s) => s.startMs),
      [...spans.map((s) => s.startMs)].sort((a, b) => a - b),
    );
  });

  it('keeps a span sent twice (an exporter retry) once, and counts errors', () => {
    const store = new TraceStore();
    const traceId = hexId(16);
    const failed = exportOf('payments', traceId, 0, [{ name: 'payments.charge', spanId: hexId(8), at: 0, ms: 5, error: 'card declined' }]);
    store.add(spansOfExport(failed));
    store.add(spansOfExport(failed));
    assert.equal(store.get(traceId)!.spans.length, 1);
    assert.equal(store.summary(traceId)!.errors, 1);
    assert.equal(store.get(traceId)!.spans[0]!.statusMessage, 'card declined');
  });

  it('is bounded: the trace seen longest ago is forgotten first, newest listed first', () => {
    const store = new TraceStore({ maxTraces: 3 });
    const ids = Array.from({ length: 5 }, (_, i) => {
      const id = hexId(16);
      store.add(spansOfExport(exportOf('gateway', id, 1_000 * i, [{ name: `GET /${i}`, spanId: hexId(8), at: 0, ms: 1 }])));
      return id;
    });
    assert.equal(store.size, 3);
    assert.equal(store.get(ids[0]!), undefined);
    assert.equal(store.get(ids[1]!), undefined);
    assert.deepEqual(
      store.list().map((t) => t.root),
      ['GET /4', 'GET /3', 'GET /2'],
    );
    assert.deepEqual(
      store.list(2).map((t) => t.traceId),
      [ids[4], ids[3]],
    );
  });

  it('drops spans over the per-trace limit and says how many', () => {
    const store = new TraceStore({ maxSpansPerTrace: 2 });
    const traceId = hexId(16);
    store.add(
      spansOfExport(
        exportOf(
          'orders',
          traceId,
          0,
          [1, 2, 3, 4].map((i) => ({ name: `s${i}`, spanId: hexId(8), at: i, ms: 1 })),
        ),
      ),
    );
    assert.equal(store.get(traceId)!.spans.length, 2);
    assert.equal(store.get(traceId)!.dropped, 2);
  });

  it('tells listeners which traces changed', () => {
    const store = new TraceStore();
    const seen: string[][] = [];
    const off = store.onChange((ids) => seen.push([...ids]));
    const { traceId, exports } = checkoutExports();
    store.add(spansOf(exports));
    off();
    store.add(spansOf(checkoutExports().exports));
    assert.deepEqual(seen, [[traceId]]);
  });
});
