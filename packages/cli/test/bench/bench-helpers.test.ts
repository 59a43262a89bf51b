// The benchmark suite's own helpers: percentiles, tables, bounded load loops and the
// section-by-section rewrite of docs/benchmarks.md. The suite itself runs with `npm run bench`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeDoc, parseDoc } from '../../../../bench/lib/doc.ts';
import { concurrent, sequential } from '../../../../bench/lib/load.ts';
import { median, ms, percentile, perSecond, ratio } from '../../../../bench/lib/stats.ts';
import { markdownTable } from '../../../../bench/lib/table.ts';

describe('bench helpers', () => {
  it('takes nearest-rank percentiles of unsorted samples', () => {
    const samples = Float64Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1
    assert.equal(percentile(samples, 50), 50);
    assert.equal(percentile(samples, 99), 99);
    assert.equal(percentile(samples, 100), 100);
    assert.equal(percentile(samples, 0), 1);
    assert.equal(median([3, 1, 2]), 2);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  it('formats ratios, durations and rates', () => {
    assert.equal(ratio(1.2, 1), '1.20×');
    assert.equal(ratio(1, 0), 'n/a');
    assert.equal(ms(0.1234), '0.123 ms');
    assert.equal(ms(1234.4), '1234 ms');
    assert.equal(perSecond(12345.6), '12,346/s');
  });

  it('prints aligned markdown tables', () => {
    assert.equal(markdownTable(['a', 'bb'], [['xyz', '1']]), '| a   | bb |\n| --- | -- |\n| xyz | 1  |');
  });

  it('stops a load loop at its count and at its time limit, counting errors apart', async () => {
    let calls = 0;
    const counted = await concurrent(
      async () => {
        if (++calls % 10 === 0) throw new Error('every tenth fails');
      },
      { count: 100, maxMs: 10_000, inFlight: 4 },
    );
    assert.equal(calls, 100);
    assert.equal(counted.completed, 90);
    assert.equal(counted.errors, 10);
    assert.equal(counted.samples.length, 90);
    const timed = await sequential(() => new Promise((r) => setTimeout(r, 5)), { count: 1_000_000, maxMs: 100 });
    assert.ok(timed.completed > 0 && timed.completed < 50, `stopped by time after ${timed.completed} calls`);
  });

  it('rewrites its own sections and keeps every other section where it was', () => {
    const old = '# Benchmarks\n\nold intro\n\n## Summary\n\nold summary\n\n## Mutual TLS\n\nkept\n\n```\n## not a heading\n```\n\n## RPC\n\nold rpc\n';
    const doc = parseDoc(old);
    assert.deepEqual(
      doc.sections.map((s) => s.heading),
      ['Summary', 'Mutual TLS', 'RPC'],
    );
    const text = mergeDoc(doc, [
      { heading: 'RPC', body: 'new rpc' },
      { heading: 'Gateway', body: 'new gateway' },
    ]);
    assert.equal(
      text,
      '# Benchmarks\n\nold intro\n\n## Summary\n\nold summary\n\n## Mutual TLS\n\nkept\n\n```\n## not a heading\n```\n\n## RPC\n\nnew rpc\n\n## Gateway\n\nnew gateway\n',
    );
    const full = mergeDoc(parseDoc('# B\n\n## Gateway\n\ng\n\n## Monolith\n\nm\n\n## RPC\n\nr\n'), [
      { heading: 'Summary', body: 's2' },
      { heading: 'RPC', body: 'r2' },
      { heading: 'Gateway', body: 'g2' },
    ]);
    assert.equal(
      full,
      '# B\n\n## Summary\n\ns2\n\n## RPC\n\nr2\n\n## Gateway\n\ng2\n\n## Monolith\n\nm\n',
      'a full run writes its block in order, others follow',
    );
    const fresh = mergeDoc(parseDoc(''), [{ heading: 'Summary', body: 's' }], '# Benchmarks');
    assert.equal(fresh, '# Benchmarks\n\n## Summary\n\ns\n');
  });
});
