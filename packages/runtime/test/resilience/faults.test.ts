import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { FaultRule } from '../../../carotene/src/declare/resilience-settings.ts';
import { isCaroteneError, platformError } from '../../../carotene/src/errors.ts';
import { FaultInjector, installFaults, withFaults } from '../../src/resilience/fault-injector.ts';
import { InProcessTransport, LocalServices } from '../../src/transport/in-process-transport.ts';
import { faultsFile, readFaultsFile, watchFaultsFile, writeFaultsFile } from '../../src/resilience/faults-file.ts';

const dropped = (): never => {
  throw platformError('UNAVAILABLE', 'dropped');
};

describe('fault injection', () => {
  it('applies rules by service and function, with their probability and limit', () => {
    const rolls = [0.1, 0.9, 0.1, 0.1];
    const faults = new FaultInjector(
      [
        { service: 'catalog', function: 'getProducts', kind: 'latency', ms: 2_000, probability: 0.5 },
        { service: 'payments', kind: 'drop', phase: 'response', limit: 1 },
      ],
      () => rolls.shift() ?? 0,
    );
    assert.deepEqual(faults.plan('catalog', 'getProducts'), { latencyMs: 2_000, failure: undefined });
    assert.equal(faults.plan('catalog', 'getProducts'), undefined, 'a roll above the probability leaves the call alone');
    assert.equal(faults.plan('catalog', 'listProducts'), undefined, 'another function');
    assert.deepEqual(faults.plan('payments', 'charge'), { latencyMs: 0, failure: { kind: 'drop', phase: 'response', code: 'UNAVAILABLE' } });
    assert.equal(faults.plan('payments', 'charge'), undefined, 'the limit is spent');
  });

  it('a request-phase error stops the handler; a response-phase drop runs it and loses the answer', async () => {
    let ran = 0;
    const handler = async () => ++ran;
    await assert.rejects(
      withFaults({ latencyMs: 0, failure: { kind: 'error', phase: 'request', code: 'INTERNAL' } }, 'catalog', 'f', dropped, handler),
      (e) => isCaroteneError(e, 'INTERNAL') && e.service === 'catalog' && /fault injected/.test(e.message),
    );
    assert.equal(ran, 0);
    await assert.rejects(
      withFaults({ latencyMs: 0, failure: { kind: 'drop', phase: 'response', code: 'UNAVAILABLE' } }, 'catalog', 'f', dropped, handler),
      /dropped/,
    );
    assert.equal(ran, 1);
    const started = Date.now();
    assert.equal(await withFaults({ latencyMs: 60 }, 'catalog', 'f', dropped, handler), 2);
    assert.ok(Date.now() - started >= 55);
  });

  it('the faults file is validated, written atomically and watched', async () => {
    const file = faultsFile(mkdtempSync(join(tmpdir(), 'carotene-faults-')));
    assert.deepEqual(readFaultsFile(file), []);
    const seen: FaultRule[][] = [];
    const stop = watchFaultsFile(file, (rules) => seen.push(rules), { intervalMs: 20 });
    const rule: FaultRule = { service: 'catalog', kind: 'latency', ms: 2_000 };
    await writeFaultsFile(file, [rule]);
    const deadline = Date.now() + 10_000;
    while (!seen.some((r) => r.length === 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    stop();
    assert.deepEqual(seen.at(-1), [rule]);
    await writeFaultsFile(file, [{ service: 'x', kind: 'latency' } as unknown as FaultRule]);
    assert.throws(
      () => readFaultsFile(file),
      (e) => isCaroteneError(e, 'INVALID_CONFIG') && /faults\.0\.ms/.test(e.message),
    );
  });

  it('applies to in-process calls too (monolith and groups): a drop is UNAVAILABLE, latency delays', async () => {
    const local = new LocalServices();
    let ran = 0;
    local.register('catalog', { invoke: async () => ({ n: ++ran }) });
    const transport = new InProcessTransport('orders', local);
    const meta = { caller: 'orders', requestId: 'r1', deadline: Date.now() + 5_000 };
    installFaults(
      new FaultInjector([
        { service: 'catalog', function: 'getProducts', kind: 'drop', limit: 1 },
        { service: 'catalog', function: 'getProducts', kind: 'latency', ms: 50 },
      ]),
    );
    try {
      await assert.rejects(transport.call('catalog', 'getProducts', {}, meta), (e) => isCaroteneError(e, 'UNAVAILABLE') && e.service === 'catalog');
      assert.equal(ran, 0, 'dropped before the handler ran');
      const started = Date.now();
      assert.deepEqual(await transport.call('catalog', 'getProducts', {}, meta), { n: 1 });
      assert.ok(Date.now() - started >= 45);
      assert.deepEqual(await transport.call('catalog', 'listProducts', {}, meta), { n: 2 }, 'another function is untouched');
    } finally {
      installFaults(undefined);
    }
  });
});
