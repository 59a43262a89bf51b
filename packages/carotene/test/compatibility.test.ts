import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { contract, event, rpc } from '../src/index.ts';

describe('compatibility modes of contracts and events', () => {
  const fns = { get: rpc({ input: z.object({ id: z.string() }), output: z.object({ id: z.string() }) }) };

  it('defaults to backward, and keeps the mode declared', () => {
    assert.equal(contract('catalog', fns).compatibility, 'backward');
    assert.equal(contract('catalog', fns, { compatibility: 'full' }).compatibility, 'full');
    assert.equal(event('orders', 'Placed', { version: 1, schema: z.object({}) }).compatibility, 'backward');
    assert.equal(event('orders', 'Placed', { version: 1, schema: z.object({}), compatibility: 'forward' }).compatibility, 'forward');
  });

  it('refuses a mode that is not one, naming the contract or event and the modes', () => {
    assert.throws(
      () => contract('catalog', fns, { compatibility: 'sideways' as never }),
      /^TypeError: contract 'catalog': compatibility must be one of 'backward', 'forward', 'full', 'none', got "sideways"$/,
    );
    assert.throws(
      () => event('orders', 'Placed', { version: 1, schema: z.object({}), compatibility: 1 as never }),
      /^TypeError: event 'orders.Placed': compatibility must be one of 'backward', 'forward', 'full', 'none', got 1$/,
    );
  });
});
