// Compile-time guarantees of HTTP integrations, checked by `tsc`: each `@ts-expect-error`
// marks code that must NOT compile.
import { z } from 'zod';
import { contract, handler, http, implement, rpc } from '../../src/index.ts';
import { testService } from '../../../testing/src/index.ts';

const CardProvider = http('cardProvider', { baseUrl: 'https://api.cards.example' });
const Mailer = http('mailer', { baseUrl: 'https://mail.example' });
const Catalog = contract('catalog', { list: rpc({ input: z.object({}), output: z.array(z.string()) }) });
const Payments = contract('payments', { charge: rpc({ input: z.object({ amount: z.number() }), output: z.number() }) });

export const payments = implement(Payments, { integrations: [CardProvider, Mailer, Catalog] }).handlers({
  charge: handler({ calls: [CardProvider, Catalog] }, async ({ amount }, ctx) => {
    const res = await ctx.http.cardProvider.post('/charges', { json: { amount }, idempotencyKey: 'k', query: { expand: ['a'] } });
    const status: number = res.status;
    const body = res.json<{ id: string }>();
    const id: string = body.id;
    await ctx.call.catalog.list({});
    // @ts-expect-error GET takes no body
    await ctx.http.cardProvider.get('/x', { json: {} });
    // @ts-expect-error mailer is the service's, but not declared by this handler
    await ctx.http.mailer.post('/send');
    // @ts-expect-error an HTTP integration is not a contract client
    await ctx.call.cardProvider.post('/charges');
    // @ts-expect-error a contract is not an HTTP client
    await ctx.http.catalog.get('/');
    return status + id.length;
  }),
});

// @ts-expect-error a handler may declare only the service's integrations
implement(Payments, { integrations: [Catalog] }).handlers({ charge: handler({ calls: [CardProvider] }, async () => 1) });

export async function mocks(): Promise<void> {
  await testService(payments, {
    mock: { cardProvider: { status: 201, json: { id: 'ch_1' } }, mailer: (req) => ({ status: req.method === 'POST' ? 202 : 405 }), catalog: { list: [] } },
  });
  // @ts-expect-error an HTTP mock answers with a status, json or body
  await testService(payments, { mock: { cardProvider: { list: [] } } });
}
