import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { CaroteneError, isCaroteneError } from '../../../carotene/src/errors.ts';
import { InProcessTransport, LocalServices, type LocalService } from '../../src/transport/in-process-transport.ts';
import { RoutingTransport } from '../../src/transport/routing-transport.ts';
import type { CallMeta, Transport } from '../../src/transport/transport.ts';

const meta = (ms = 2_000, caller = 'claimed'): CallMeta => ({ caller, requestId: 'req-1', deadline: Date.now() + ms });

function servicesWith(name: string, service: LocalService): LocalServices {
  const local = new LocalServices();
  local.register(name, service);
  return local;
}

describe('InProcessTransport', () => {
  it('calls as the service it was made for, whatever meta claims', async () => {
    let seen: CallMeta | undefined;
    const t = new InProcessTransport('orders', servicesWith('catalog', { invoke: async (_fn, _input, m) => ((seen = m), null) }));
    const m = meta(1_000, 'users');
    await t.call('catalog', 'get', {}, m);
    assert.equal(seen?.caller, 'orders');
    assert.equal(seen?.requestId, 'req-1');
    assert.equal(seen?.deadline, m.deadline, 'the callee inherits the deadline');
  });

  it('copies input and output, so caller and callee never share an object', async () => {
    const kept = { items: [1, 2] };
    let received: { items: number[] } | undefined;
    const t = new InProcessTransport(
      'orders',
      servicesWith('catalog', {
        invoke: async (_fn, input) => {
          received = input as { items: number[] };
          received.items.push(99);
          return kept;
        },
      }),
    );
    const input = { items: [1] };
    const out = (await t.call('catalog', 'get', input, meta())) as { items: number[] };
    assert.deepEqual(input, { items: [1] }, "the callee's mutation did not reach the caller's input");
    assert.notEqual(out, kept);
    out.items.push(3);
    assert.deepEqual(kept, { items: [1, 2] }, "the caller's mutation did not reach the callee's object");
  });

  it('delivers exactly what the wire would: dates as strings, undefined fields dropped', async () => {
    const t = new InProcessTransport('a', servicesWith('b', { invoke: async (_fn, input) => input }));
    const out = await t.call('b', 'f', { at: new Date(0), gone: undefined }, meta());
    assert.deepEqual(out, { at: '1970-01-01T00:00:00.000Z' });
  });

  it('stops waiting at the deadline with DEADLINE_EXCEEDED while the callee runs on', async () => {
    let finished = false;
    const t = new InProcessTransport('a', servicesWith('b', { invoke: async () => (await sleep(300), (finished = true), 'late') }));
    const started = Date.now();
    await assert.rejects(t.call('b', 'slow', {}, meta(60)), (err: unknown) => isCaroteneError(err, 'DEADLINE_EXCEEDED') && err.service === 'b');
    const waited = Date.now() - started;
    assert.ok(waited >= 55 && waited < 250, `gave up at the deadline (${waited} ms)`);
    assert.equal(finished, false);
    await sleep(300);
    assert.equal(finished, true, 'the callee was not cancelled, as a remote one would not be');
  });

  it('refuses at once when no time is left, without invoking', async () => {
    let invoked = false;
    const t = new InProcessTransport('a', servicesWith('b', { invoke: async () => ((invoked = true), null) }));
    await assert.rejects(t.call('b', 'f', {}, meta(-1)), (err: unknown) => isCaroteneError(err, 'DEADLINE_EXCEEDED'));
    assert.equal(invoked, false);
  });

  it('passes typed errors on as fresh copies, and hides anything else behind INTERNAL', async () => {
    const details = { left: 0 };
    const domain = new CaroteneError('SOLD_OUT', 'none left', { status: 409, domain: true, service: 'b', details, cause: new Error('inner') });
    const t = new InProcessTransport(
      'a',
      servicesWith('b', {
        invoke: async (fn) => {
          throw fn === 'domain' ? domain : new Error('secret internal detail');
        },
      }),
    );
    await assert.rejects(t.call('b', 'domain', {}, meta()), (err: unknown) => {
      assert.ok(isCaroteneError(err, 'SOLD_OUT'));
      assert.notEqual(err, domain);
      assert.deepEqual([err.status, err.domain, err.service, err.details], [409, true, 'b', { left: 0 }]);
      assert.notEqual(err.details, details);
      assert.equal(err.cause, undefined, "the callee's cause stays in the callee");
      return true;
    });
    await assert.rejects(t.call('b', 'crash', {}, meta()), (err: unknown) => {
      assert.ok(isCaroteneError(err, 'INTERNAL'));
      assert.doesNotMatch(err.message, /secret/);
      assert.equal(err.service, 'b');
      return true;
    });
  });

  it('answers UNAVAILABLE for a service not running in this process', async () => {
    const t = new InProcessTransport('a', new LocalServices());
    await assert.rejects(t.call('b', 'f', {}, meta()), (err: unknown) => isCaroteneError(err, 'UNAVAILABLE') && err.service === 'b');
  });

  it("runs the callee outside the caller's async context", async () => {
    const als = new AsyncLocalStorage<string>();
    const t = new InProcessTransport('a', servicesWith('b', { invoke: async () => als.getStore() ?? 'none' }));
    assert.equal(await als.run('caller transaction', () => t.call('b', 'f', {}, meta())), 'none');
  });

  it('refuses to register a service twice', () => {
    const local = servicesWith('b', { invoke: async () => null });
    assert.throws(() => local.register('b', { invoke: async () => null }), /twice/);
  });
});

describe('RoutingTransport', () => {
  const recorder = (name: string, calls: string[]): Transport => ({
    call: async (service, fn) => (calls.push(`${name}:${service}.${fn}`), null),
    close: async () => void calls.push(`${name}:closed`),
  });

  it('keeps calls to co-located services in process and sends the rest over the network', async () => {
    const calls: string[] = [];
    const t = new RoutingTransport({ colocated: ['users', 'catalog'], local: recorder('local', calls), remote: recorder('remote', calls) });
    await t.call('catalog', 'get', {}, meta());
    await t.call('payments', 'charge', {}, meta());
    assert.equal(t.isLocal('users'), true);
    assert.equal(t.isLocal('orders'), false);
    await t.close();
    assert.deepEqual(calls, ['local:catalog.get', 'remote:payments.charge', 'local:closed', 'remote:closed']);
  });
});
