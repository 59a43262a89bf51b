// ctx.http against a real HTTP server on a socket: what leaves (method, path, query, headers,
// JSON, traceparent), what comes back (status, headers, bounded body), the policies (retries
// only when safe, the caller's deadline, one breaker per integration), faults, metrics, and
// every failure as a typed error that says what happened.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { z } from 'zod';
import { contract, handler, http, implement, rpc } from '../../../carotene/src/index.ts';
import { isCaroteneError } from '../../../carotene/src/errors.ts';
import { CallPolicies, installCallPolicies } from '../../src/resilience/call-policies.ts';
import { FaultInjector, installFaults } from '../../src/resilience/fault-injector.ts';
import { baseUrlVariable } from '../../src/service/http-clients.ts';
import { createLogger } from '../../src/service/logger.ts';
import { ServiceRuntime } from '../../src/service/service-runtime.ts';
import { openStore, type StoreDriver } from '../../src/store/driver.ts';
import { renderMetrics } from '../../src/telemetry/metrics.ts';
import { parseTraceparent } from '../../src/telemetry/trace-context.ts';
import { startTracing } from '../../src/telemetry/tracing.ts';
import type { Transport } from '../../src/transport/transport.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local HTTP server whose answer each test sets; it remembers every request. */
function fakeApi() {
  const seen: Seen[] = [];
  let answer: (req: Seen, res: ServerResponse) => void = (_req, res) => res.end('{}');
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(s);
      answer(s, res);
    });
  });
  return {
    seen,
    server,
    answer: (fn: typeof answer) => (answer = fn),
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  };
}

const api = fakeApi();
const noTransport: Transport = { call: async () => assert.fail('no internal calls here'), close: async () => undefined };

const Shop = contract('shop', {
  send: rpc({
    input: z.object({
      method: z.string(),
      path: z.string(),
      json: z.unknown().optional(),
      query: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
      key: z.string().optional(),
      timeoutMs: z.number().optional(),
      read: z.enum(['json', 'text']).default('json'),
    }),
    // a failure comes back as data, so the test sees the error the handler saw
    output: z.object({
      status: z.number().optional(),
      ok: z.boolean().optional(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown(),
      error: z.object({ code: z.string(), message: z.string(), details: z.unknown() }).optional(),
    }),
  }),
  sneaky: rpc({ input: z.object({}), output: z.null() }),
});

describe('ctx.http', () => {
  const stores: StoreDriver[] = [];
  const tracing = startTracing({ service: 'shop' });
  let runtime: ServiceRuntime;
  let Cards: ReturnType<typeof http<'cards'>>;

  before(async () => {
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
    Cards = http('cards', { baseUrl: `${api.url()}/v2`, headers: { authorization: () => 'Bearer s3cret', 'x-api-version': '7' }, maxResponseBytes: 1_000 });
    const Other = http('other', { baseUrl: 'https://other.example' });
    const shop = implement(Shop, { integrations: [Cards, Other] }).handlers({
      send: handler({ calls: [Cards] }, async (input, ctx) => {
        try {
          const res = await ctx.http.cards.request(input.method, input.path, {
            ...(input.json === undefined ? {} : { json: input.json }),
            ...(input.query ? { query: input.query } : {}),
            ...(input.key ? { idempotencyKey: input.key } : {}),
            ...(input.timeoutMs ? { timeoutMs: input.timeoutMs } : {}),
            headers: { 'x-request': 'one' },
          });
          return { status: res.status, ok: res.ok, headers: res.headers, body: input.read === 'json' ? res.json() : res.text() };
        } catch (err) {
          if (!isCaroteneError(err)) throw err;
          assert.equal(err.service, 'cards', 'the error names the integration');
          return { body: null, error: { code: err.code, message: err.message, details: err.details } };
        }
      }),
      // escapes the types: the runtime must still refuse what the handler did not declare
      sneaky: handler({}, async (_input, ctx) => {
        await (ctx.http as unknown as Record<string, { get(p: string): Promise<unknown> }>).other!.get('/');
        return null;
      }),
    });
    const store = await openStore({ file: ':memory:' });
    stores.push(store);
    runtime = new ServiceRuntime({ def: shop, store, transport: noTransport, config: undefined, log: createLogger('shop', 'silent') });
  });
  afterEach(() => {
    installCallPolicies(undefined);
    installFaults(undefined);
    api.seen.length = 0;
  });
  after(async () => {
    await new Promise((resolve) => api.server.close(resolve));
    await tracing.shutdown();
    for (const s of stores) await s.close();
  });

  const send = (input: Record<string, unknown>, deadlineMs = 5_000, traceparent?: string) =>
    runtime.invoke('send', input, { caller: 'test', requestId: 'r1', deadline: Date.now() + deadlineMs, traceparent, tracestate: 'congo=a' });
  /** The error the handler caught. */
  const rejection = async (p: Promise<unknown>) => {
    const out = (await p) as { error?: { code: string; message: string; details?: { reason?: string } } };
    return out.error ?? assert.fail(`expected an error, got ${JSON.stringify(out)}`);
  };

  it('sends method, path below the base URL, query, headers and JSON; reads status, headers and JSON', async () => {
    api.answer((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-charge': 'ch_1' });
      res.end(JSON.stringify({ id: 'ch_1' }));
    });
    const out = (await send(
      { method: 'POST', path: '/charges', json: { amount: 5 }, query: { expand: ['a', 'b'], mode: 'test' } },
      5_000,
      `00-${TRACE}-${SPAN}-03`,
    )) as { status: number; ok: boolean; headers: Record<string, string>; body: unknown };
    assert.deepEqual(out.body, { id: 'ch_1' });
    assert.equal(out.status, 201);
    assert.equal(out.ok, true);
    assert.equal(out.headers['x-charge'], 'ch_1');
    const req = api.seen[0]!;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/v2/charges?expand=a&expand=b&mode=test');
    assert.equal(req.body, '{"amount":5}');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers.authorization, 'Bearer s3cret', 'a declared header, read per request');
    assert.equal(req.headers['x-api-version'], '7');
    assert.equal(req.headers['x-request'], 'one');
    const parent = parseTraceparent(String(req.headers.traceparent))!;
    assert.equal(parent.traceId, TRACE, 'the trace goes on to the API');
    assert.notEqual(parent.spanId, SPAN, 'under the client span');
    assert.equal(parent.flags & 0x02, 0x02, 'random kept');
    assert.equal(req.headers.tracestate, 'congo=a');
  });

  it('answers a 4xx as data, not an error, and never retries a POST without a key', async () => {
    installCallPolicies(new CallPolicies({ defaults: { retry: { baseDelayMs: 1, maxDelayMs: 1 } } }));
    api.answer((_req, res) => {
      res.writeHead(402, { 'content-type': 'application/json' });
      res.end('{"declined":true}');
    });
    const declined = (await send({ method: 'POST', path: '/charges', json: {} })) as { status: number; ok: boolean; body: unknown };
    assert.equal(declined.status, 402);
    assert.equal(declined.ok, false);
    assert.deepEqual(declined.body, { declined: true });
    api.answer((_req, res) => {
      res.writeHead(503);
      res.end('busy');
    });
    const busy = (await send({ method: 'POST', path: '/charges', json: {}, read: 'text' })) as { status: number; body: unknown };
    assert.equal(busy.status, 503, "the API's last answer, once the policies gave up");
    assert.equal(busy.body, 'busy');
    assert.equal(api.seen.length, 2, 'one attempt each: a POST is not idempotent');
  });

  it('retries an idempotent method, or a POST with an idempotency key, after a 503', async () => {
    installCallPolicies(new CallPolicies({ defaults: { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 } } }));
    let n = 0;
    api.answer((_req, res) => {
      n++;
      res.writeHead(n % 2 === 1 ? 503 : 200, { 'content-type': 'application/json' });
      res.end('{"n":1}');
    });
    const got = (await send({ method: 'GET', path: '/cards/1' })) as { status: number };
    assert.equal(got.status, 200);
    assert.equal(api.seen.length, 2, 'GET retried once');
    const keyed = (await send({ method: 'POST', path: '/charges', json: {}, key: 'order-1' })) as { status: number };
    assert.equal(keyed.status, 200);
    assert.equal(api.seen.length, 4, 'keyed POST retried once');
    assert.equal(api.seen[3]!.headers['idempotency-key'], 'order-1', 'the key goes with every attempt');
  });

  it('opens one breaker per integration after failures in a row, then fails fast without sending', async () => {
    installCallPolicies(new CallPolicies({ integrations: { cards: { retry: { maxAttempts: 1 }, breaker: { failures: 2, halfOpenAfterMs: 60_000 } } } }));
    api.answer((_req, res) => {
      res.writeHead(500);
      res.end();
    });
    for (let i = 0; i < 2; i++) assert.equal(((await send({ method: 'GET', path: '/x', read: 'text' })) as { status: number }).status, 500);
    const open = await rejection(send({ method: 'GET', path: '/x' }));
    assert.equal(open.code, 'UNAVAILABLE');
    assert.equal(open.details?.reason, 'breaker-open');
    assert.equal(api.seen.length, 2, 'nothing sent while open');
  });

  it("times out by the integration's budget, and never past the caller's deadline", async () => {
    api.answer((_req, res) => setTimeout(() => res.end('{}'), 1_000));
    const started = Date.now();
    const slow = await rejection(send({ method: 'GET', path: '/slow', timeoutMs: 150 }));
    assert.equal(slow.code, 'DEADLINE_EXCEEDED');
    assert.match(slow.message, /cards \(GET http:\/\/127\.0\.0\.1:\d+\/v2\/slow\) did not answer in time/);
    const bounded = await rejection(send({ method: 'GET', path: '/slow', timeoutMs: 5_000 }, 200));
    assert.equal(bounded.code, 'DEADLINE_EXCEEDED');
    assert.ok(Date.now() - started < 900, `both gave up early: ${Date.now() - started} ms`);
  });

  it('bounds the response body, declared or streamed', async () => {
    api.answer((_req, res) => res.end('x'.repeat(2_000)));
    const declared = await rejection(send({ method: 'GET', path: '/big', read: 'text' }));
    assert.equal(declared.code, 'UPSTREAM_ERROR');
    assert.equal(declared.details?.reason, 'too-large');
    api.answer((_req, res) => {
      res.write('x'.repeat(600));
      setTimeout(() => res.end('x'.repeat(600)), 10);
    });
    const streamed = await rejection(send({ method: 'GET', path: '/big', read: 'text' }));
    assert.equal(streamed.code, 'UPSTREAM_ERROR');
  });

  it('says when the answer is not the JSON asked for', async () => {
    api.answer((_req, res) => res.end('<html>'));
    const err = await rejection(send({ method: 'GET', path: '/html' }));
    assert.equal(err.code, 'UPSTREAM_ERROR');
    assert.equal(err.details?.reason, 'invalid-json');
  });

  it('names DNS and connection failures clearly', async () => {
    const variable = baseUrlVariable('cards');
    assert.equal(variable, 'CAROTENE_HTTP_CARDS_URL');
    try {
      process.env[variable] = 'http://no-such-host.invalid';
      const dns = await rejection(send({ method: 'GET', path: '/x' }));
      assert.equal(dns.code, 'UNAVAILABLE');
      assert.equal(dns.details?.reason, 'dns');
      assert.match(dns.message, /does not resolve/);
      process.env[variable] = 'http://127.0.0.1:1';
      const refused = await rejection(send({ method: 'GET', path: '/x' }));
      assert.equal(refused.code, 'UNAVAILABLE');
      assert.equal(refused.details?.reason, 'refused');
      process.env[variable] = 'ftp://nope';
      assert.equal((await rejection(send({ method: 'GET', path: '/x' }))).code, 'INVALID_CONFIG');
    } finally {
      delete process.env[variable];
    }
    // the variable points the integration elsewhere: here, back at the server, without /v2
    process.env[variable] = api.url();
    try {
      await send({ method: 'GET', path: '/moved' });
      assert.equal(api.seen.at(-1)!.url, '/moved');
    } finally {
      delete process.env[variable];
    }
  });

  it('refuses a path that leaves the base URL, a body on GET, and an unknown method, before sending', async () => {
    for (const [input, pattern] of [
      [{ method: 'GET', path: '/../admin' }, /'\.\.' segments/],
      [{ method: 'GET', path: '//evil.example/x' }, /single '\/'/],
      [{ method: 'GET', path: 'charges' }, /single '\/'/],
      [{ method: 'GET', path: '/x?a=1' }, /query option/],
      [{ method: 'GET', path: '/x', json: {} }, /has no body/],
      [{ method: 'TRACE', path: '/x' }, /not a method/],
    ] as const) {
      const err = await rejection(send(input));
      assert.equal(err.code, 'INVALID_INPUT', JSON.stringify(input));
      assert.match(err.message, pattern);
    }
    assert.equal(api.seen.length, 0);
  });

  it('refuses an integration the handler did not declare', async () => {
    // PERMISSION_DENIED is the service's bug: logged, and answered as INTERNAL naming it
    await assert.rejects(runtime.invoke('sneaky', {}, { caller: 'test', requestId: 'r2', deadline: Date.now() + 1_000 }), (err: unknown) => {
      assert.ok(isCaroteneError(err, 'INTERNAL'));
      assert.match(err.message, /may not use the HTTP integration 'other'.*add it to the handler's calls/);
      return true;
    });
  });

  it('injects faults from the faults rules, in the caller', async () => {
    installFaults(new FaultInjector([{ service: 'cards', function: 'POST', kind: 'error', code: 'UNAVAILABLE', limit: 1 }]));
    const err = await rejection(send({ method: 'POST', path: '/charges', json: {} }));
    assert.equal(err.code, 'UNAVAILABLE');
    assert.match(err.message, /fault injected/);
    assert.equal(api.seen.length, 0, 'a request-phase fault sends nothing');
    installFaults(new FaultInjector([{ service: 'cards', kind: 'drop' }]));
    const drop = await rejection(send({ method: 'GET', path: '/x' }));
    assert.equal(drop.details?.reason, 'reset');
  });

  it('counts requests per integration, method, status and code', async () => {
    api.answer((_req, res) => res.end('{}'));
    await send({ method: 'GET', path: '/counted' });
    const metrics = await renderMetrics();
    assert.match(metrics, /carotene_http_client_requests_total\{service="shop",integration="cards",method="GET",status="200",code="OK"\} \d+/);
    assert.match(metrics, /carotene_http_client_requests_total\{service="shop",integration="cards",method="GET",status="none",code="DEADLINE_EXCEEDED"\} \d+/);
    assert.match(metrics, /carotene_http_client_request_duration_seconds_count\{service="shop",integration="cards",method="GET"\} \d+/);
  });
});
