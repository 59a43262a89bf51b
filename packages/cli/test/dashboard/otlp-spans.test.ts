import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCaroteneError } from '../../../carotene/src/errors.ts';
import { spansOfExport } from '../../src/dashboard/otlp-spans.ts';
import { exportOf, hexId } from './otlp-fixture.ts';

describe('spansOfExport', () => {
  it('reads the OTLP/HTTP JSON the trace exporter sends: hex ids, string nanoseconds, typed attributes', () => {
    const traceId = hexId(16);
    const [parent, child] = [hexId(8), hexId(8)];
    const body = exportOf('orders', traceId, 1_700_000_000_000.25, [
      { name: 'orders.checkout', spanId: parent, at: 0, ms: 10, kind: 2, attributes: { 'http.status': 200, cached: false, route: '/x', ratio: 0.5 } },
      { name: 'catalog.reserveStock', spanId: child, parent, at: 2, ms: 3, kind: 3, error: 'OUT_OF_STOCK' },
    ]);
    const spans = spansOfExport(body);
    assert.equal(spans.length, 2);
    const [a, b] = spans as [(typeof spans)[0], (typeof spans)[0]];
    assert.equal(a.traceId, traceId);
    assert.equal(a.service, 'orders');
    assert.equal(a.kind, 'server');
    assert.equal(a.parentSpanId, '');
    // nanoseconds since the epoch survive the conversion to milliseconds to the microsecond
    assert.ok(Math.abs(a.startMs - 1_700_000_000_000.25) < 0.001, String(a.startMs));
    assert.ok(Math.abs(a.endMs - a.startMs - 10) < 0.001);
    assert.deepEqual(a.attributes, { 'http.status': 200, cached: false, route: '/x', ratio: 0.5 });
    assert.equal(a.error, false);
    assert.equal(b.parentSpanId, parent);
    assert.equal(b.kind, 'client');
    assert.equal(b.error, true);
    assert.equal(b.statusMessage, 'OUT_OF_STOCK');
  });

  it('accepts base64 ids, enum names for kinds and nested attribute values', () => {
    const traceId = hexId(16);
    const spanId = hexId(8);
    const spans = spansOfExport({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'gateway' } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: Buffer.from(traceId, 'hex').toString('base64'),
                  spanId: Buffer.from(spanId, 'hex').toString('base64'),
                  parentSpanId: '',
                  name: 'GET /',
                  kind: 'SPAN_KIND_SERVER',
                  startTimeUnixNano: 1_000_000,
                  endTimeUnixNano: 3_000_000,
                  attributes: [
                    { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 2 }] } } },
                    { key: 'obj', value: { kvlistValue: { values: [{ key: 'k', value: { boolValue: true } }] } } },
                  ],
                  status: { code: 'STATUS_CODE_ERROR' },
                },
              ],
            },
          ],
        },
      ],
    });
    assert.equal(spans[0]!.traceId, traceId);
    assert.equal(spans[0]!.spanId, spanId);
    assert.equal(spans[0]!.kind, 'server');
    assert.equal(spans[0]!.endMs - spans[0]!.startMs, 2);
    assert.deepEqual(spans[0]!.attributes, { tags: ['a', 2], obj: { k: true } });
    assert.equal(spans[0]!.error, true);
  });

  it('names a span after its own service when services share a process', () => {
    const traceId = hexId(16);
    const spans = spansOfExport(
      exportOf('monolith', traceId, 0, [
        { name: 'orders.checkout', spanId: hexId(8), at: 0, ms: 1, attributes: { 'carotene.service': 'orders' } },
        { name: 'startup', spanId: hexId(8), at: 0, ms: 1 },
      ]),
    );
    assert.deepEqual(
      spans.map((s) => s.service),
      ['orders', 'monolith'],
    );
  });

  it('refuses what is not an export, and spans without valid ids', () => {
    for (const body of [null, {}, { resourceSpans: 'x' }]) {
      assert.throws(
        () => spansOfExport(body),
        (err) => isCaroteneError(err, 'MALFORMED_REQUEST'),
      );
    }
    const zeroTrace = exportOf('a', '0'.repeat(32), 0, [{ name: 'x', spanId: hexId(8), at: 0, ms: 1 }]);
    assert.throws(() => spansOfExport(zeroTrace), /no valid traceId/);
    const shortSpan = exportOf('a', hexId(16), 0, [{ name: 'x', spanId: 'abc', at: 0, ms: 1 }]);
    assert.throws(
      () => spansOfExport(shortSpan),
      (err) => isCaroteneError(err, 'MALFORMED_REQUEST'),
    );
  });
});
