import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { contract, rpc } from '../../carotene/src/declare/contract.ts';
import { external } from '../../carotene/src/declare/external.ts';
import { handler } from '../../carotene/src/declare/handler.ts';
import { implement } from '../../carotene/src/declare/service.ts';
import { testService } from '../src/test-service.ts';

const Ranker = contract('ranker', { rank: rpc({ input: z.object({ items: z.array(z.string()) }), output: z.array(z.string()) }) });
const Shelf = contract('shelf', { top: rpc({ input: z.object({}), output: z.string() }) });
const ranker = external('ranker', Ranker, { dev: { command: 'python3' }, deploy: { image: 'registry.example/ranker:1.0.0' } });
const shelf = implement(Shelf, { integrations: [Ranker] }).handlers({
  top: handler({ calls: [Ranker] }, async (_input, ctx) => (await ctx.call.ranker.rank({ items: ['b', 'a'] }))[0]!),
});

test('a caller of an external service is tested with it mocked, like any integration', async () => {
  const t = await testService(shelf, { mock: { ranker: { rank: ({ items }) => [...items].sort() } } });
  try {
    assert.equal(await t.call.top({}), 'a');
  } finally {
    await t.close();
  }
});

test('testService refuses an external service, saying where it is tested', async () => {
  await assert.rejects(testService(ranker as never), /testService: 'ranker' is an external service; test it in its own language/);
});
