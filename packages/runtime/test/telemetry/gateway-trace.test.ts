// The gateway and trace context from outside: continue a valid traceparent, replace an
// invalid one, bound the tracestate, answer traceresponse; /metrics for a scraper only.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createGateway } from '../../../gateway/src/gateway.ts';
import { parseTraceparent } from '../../src/telemetry/trace-context.ts';
import { startTracing } from '../../src/telemetry/tracing.ts';
import { captureLogger, FakeTransport, testApp } from '../../../gateway/test/fixtures.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';

describe('gateway trace context', () => {
  const tracing = startTracing({ service: 'gateway' });
  const transport = new FakeTransport({ 'things.listThings': () => [] });
  const { logger, lines } = captureLogger();
  const gateway = createGateway({ app: testApp(), transport, logger });
  after(async () => {
    await gateway.close();
    await tracing.shutdown();
  });
  const get = (headers: Record<string, string>) => gateway.server.inject({ method: 'GET', url: '/api/things', headers });

  it('continues a valid traceparent: same trace, the gateway span in between, tracestate passed on', async () => {
    const res = await get({ traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'shop=1,other=2' });
    assert.equal(res.statusCode, 200);
    const sent = transport.calls.at(-1)!.meta;
    const out = parseTraceparent(sent.traceparent)!;
    assert.equal(out.traceId, TRACE);
    assert.notEqual(out.spanId, PARENT);
    assert.equal(sent.tracestate, 'shop=1,other=2');
    assert.equal(res.headers.traceresponse, sent.traceparent, 'the answer names the gateway span');
    const access = lines.find((l) => l.msg === 'request' && l.trace_id === TRACE);
    assert.equal(access?.span_id, out.spanId, 'the access line names the span');
  });

  it('Level 2 at the edge: the random flag kept, tracestate fields combined, duplicates dropped, a malformed tracestate dropped alone', async () => {
    const res = await gateway.server.inject({
      method: 'GET',
      url: '/api/things',
      headers: { traceparent: `00-${TRACE}-${PARENT}-03`, tracestate: ['shop=1,other=2', 'shop=9, t@vendor=3'] },
    });
    assert.equal(res.statusCode, 200);
    const sent = transport.calls.at(-1)!.meta;
    assert.equal(parseTraceparent(sent.traceparent)!.flags & 0x02, 0x02, 'random, as the client said');
    assert.equal(sent.tracestate, 'shop=1,other=2,t@vendor=3');
    await get({ traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'shop=1,Bad Key=2' });
    const after = transport.calls.at(-1)!.meta;
    assert.equal(parseTraceparent(after.traceparent)!.traceId, TRACE, 'the traceparent still continues');
    assert.equal(parseTraceparent(after.traceparent)!.flags & 0x02, 0, 'not random: the client did not say so');
    assert.equal(after.tracestate, undefined);
  });

  it('replaces an invalid traceparent and drops its tracestate', async () => {
    for (const bad of [`00-${TRACE.toUpperCase()}-${PARENT}-01`, `00-${'0'.repeat(32)}-${PARENT}-01`, `ff-${TRACE}-${PARENT}-01`, 'nonsense']) {
      const res = await get({ traceparent: bad, tracestate: 'shop=1' });
      assert.equal(res.statusCode, 200);
      const sent = transport.calls.at(-1)!.meta;
      const out = parseTraceparent(sent.traceparent);
      assert.ok(out, `a new valid traceparent replaces ${bad}`);
      assert.notEqual(out.traceId, TRACE.toLowerCase());
      assert.equal(out.flags & 0x02, 0x02, 'the new trace is random');
      assert.equal(sent.tracestate, undefined);
    }
  });

  it('starts a trace when none comes in, a new one per request', async () => {
    await get({});
    await get({});
    const [a, b] = transport.calls.slice(-2).map((c) => parseTraceparent(c.meta.traceparent)!.traceId);
    assert.ok(a && b && a !== b);
  });

  it('serves /metrics, counting requests per route, but not through a proxy', async () => {
    const metrics = await gateway.server.inject({ method: 'GET', url: '/metrics' });
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.body, /^carotene_gateway_requests_total\{method="GET",route="\/api\/things",status="200"\} \d+$/m);
    const proxied = await gateway.server.inject({ method: 'GET', url: '/metrics', headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(proxied.statusCode, 404);
    const forwarded = await gateway.server.inject({ method: 'GET', url: '/metrics', headers: { forwarded: 'for=203.0.113.9' } });
    assert.equal(forwarded.statusCode, 404);
  });
});
