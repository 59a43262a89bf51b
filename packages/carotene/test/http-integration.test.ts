// http(...) refuses what could not work at run time, when the module loads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { contract, handler, http, implement, rpc } from '../src/index.ts';

describe('http(...)', () => {
  it('keeps a valid declaration, the base URL without its trailing slash', () => {
    const api = http('cardProvider', { baseUrl: 'https://api.cards.example/v2/', timeoutMs: 2_000 });
    assert.deepEqual(api, {
      kind: 'http',
      name: 'cardProvider',
      baseUrl: 'https://api.cards.example/v2',
      timeoutMs: 2_000,
      headers: {},
      maxResponseBytes: 1024 * 1024,
    });
  });

  it('refuses names, URLs and limits that cannot work', () => {
    for (const [name, options, pattern] of [
      ['Card', { baseUrl: 'https://x.example' }, /identifier/],
      ['card-provider', { baseUrl: 'https://x.example' }, /identifier/],
      ['card', { baseUrl: 'x.example' }, /not an absolute URL/],
      ['card', { baseUrl: 'ftp://x.example' }, /http: or https:/],
      ['card', { baseUrl: 'https://user:pw@x.example' }, /credentials in headers/],
      ['card', { baseUrl: 'https://x.example/?a=1' }, /query or fragment/],
      ['card', { baseUrl: 'https://x.example', timeoutMs: 0 }, /timeoutMs/],
      ['card', { baseUrl: 'https://x.example', maxResponseBytes: -1 }, /maxResponseBytes/],
    ] as const) {
      assert.throws(
        () => http(name, options),
        (err: Error) => err instanceof TypeError && pattern.test(err.message),
        `${name} ${JSON.stringify(options)}`,
      );
    }
  });

  it('implement keeps HTTP integrations apart from contracts, and refuses a name twice', () => {
    const Api = http('api', { baseUrl: 'https://api.example' });
    const Other = contract('other', { f: rpc({ input: z.object({}), output: z.null() }) });
    const Svc = contract('svc', { g: rpc({ input: z.object({}), output: z.null() }) });
    const svc = implement(Svc, { integrations: [Api, Other] }).handlers({ g: handler({ calls: [Api] }, async () => null) });
    assert.deepEqual(svc.http, [Api]);
    assert.deepEqual(svc.integrations, [Other]);
    assert.throws(() => implement(Svc, { integrations: [Api, Api] }).handlers({ g: handler({}, async () => null) }), /'api' is listed twice/);
    assert.throws(
      () => implement(Svc, { integrations: [Other] }).handlers({ g: handler({ calls: [Api] as never }, async () => null) }),
      /calls 'api', which is not in the service's integrations/,
    );
  });
});
