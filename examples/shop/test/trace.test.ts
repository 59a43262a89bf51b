// One checkout through the shop under `carrot dev` (one process per service) is one trace:
// gateway -> orders -> its checkout saga's steps -> catalog and payments, and on through the
// outbox to the notifications consumer. Spans are exported over OTLP/HTTP JSON to a receiver in this test.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tlsFiles } from '../../../packages/runtime/src/security/cert-paths.ts';
import { readCredentials } from '../../../packages/runtime/src/security/credentials.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';
import { startShop, type RunningShop } from './shop-process.ts';

interface Json {
  // biome-ignore lint/suspicious/noExplicitAny: test reads arbitrary JSON
  [key: string]: any;
}

const INTERNAL = 1;
const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;
const OUTSIDE_TRACE = '0af7651916cd43dd8448eb211c80319c';
const OUTSIDE_SPAN = 'b7ad6b7169203331';

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('one checkout is one trace (carrot dev, real processes, OTLP/HTTP JSON)', () => {
  let shop: RunningShop;
  let receiver: OtlpReceiver;
  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${shop.url}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json, headers: res.headers };
  };
  let token = '';
  let orderId = '';

  before(async () => {
    receiver = await startOtlpReceiver();
    // `carrot dev` passes a collector set in its environment on to every process
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    shop = await startShop(['--no-dashboard']);
    assert.equal((await api('POST', '/api/users/register', { email: 'tracer@example.com', password: 'trace me please', name: 'T' })).status, 201);
    token = (await api('POST', '/api/users/login', { email: 'tracer@example.com', password: 'trace me please' })).body.token;
    const products = (await api('GET', '/api/products?limit=100')).body.items as Json[];
    const product = products.find((p) => p.stock >= 5)!;
    const order = await api('POST', '/api/orders', { items: [{ productId: product.id, qty: 1 }] }, { authorization: `Bearer ${token}` });
    assert.equal(order.status, 201, JSON.stringify(order.body));
    orderId = order.body.id;
  });
  after(async () => {
    if (shop) assert.equal(await shop.stop(), 0, `carrot dev exits cleanly:\n${shop.output()}`);
    await receiver?.close();
  });

  it('continues a valid outside traceparent through every service and the event consumer', async () => {
    const res = await api(
      'POST',
      `/api/orders/${orderId}/checkout`,
      { card: '4242424242424242' },
      {
        authorization: `Bearer ${token}`,
        traceparent: `00-${OUTSIDE_TRACE}-${OUTSIDE_SPAN}-01`,
        tracestate: 'shop=checkout, Invalid Member',
      },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'CONFIRMED');
    assert.match(res.headers.get('traceresponse') ?? '', new RegExp(`^00-${OUTSIDE_TRACE}-[\\da-f]{16}-01$`));

    const trace = () => receiver.spans.filter((s) => s.traceId === OUTSIDE_TRACE);
    const find = (name: string, kind: number, process: string) => trace().find((s) => s.name === name && s.kind === kind && s.process === process);
    const consumer = await until('the notifications consumer span', () => find('notifications handle orders.OrderConfirmed', CONSUMER, 'notifications'));
    const gateway = await until('the gateway span', () => find('POST /api/orders/:id/checkout', SERVER, 'gateway'));
    const checkout = await until('orders.checkout', () => find('orders.checkout', SERVER, 'orders'));
    const steps = Object.fromEntries(
      await Promise.all(
        ['order', 'reserve', 'charge', 'confirm'].map(
          async (step) => [step, await until(`saga step ${step}`, () => find(`saga checkout ${step}`, INTERNAL, 'orders'))] as const,
        ),
      ),
    );
    const reserveClient = await until('the reserveStock client span', () => find('catalog.reserveStock', CLIENT, 'orders'));
    const reserveServer = await until('catalog.reserveStock', () => find('catalog.reserveStock', SERVER, 'catalog'));
    const chargeClient = await until('the charge client span', () => find('payments.charge', CLIENT, 'orders'));
    const chargeServer = await until('payments.charge', () => find('payments.charge', SERVER, 'payments'));
    const publish = await until('the publish span', () => find('publish orders.OrderConfirmed', PRODUCER, 'orders'));
    const transaction = await until("the settling transaction's span", () => trace().find((s) => s.spanId === publish.parentSpanId));

    const childOf = (child: ReceivedSpan, parent: ReceivedSpan | string) =>
      assert.equal(
        child.parentSpanId,
        typeof parent === 'string' ? parent : parent.spanId,
        `${child.name} (${child.process}) is a child of ${typeof parent === 'string' ? parent : parent.name}`,
      );
    childOf(gateway, OUTSIDE_SPAN);
    childOf(checkout, gateway);
    for (const step of Object.values(steps)) childOf(step, checkout);
    assert.equal(steps.reserve!.attributes['carotene.saga.step'], 'reserve');
    childOf(reserveClient, steps.reserve!);
    childOf(reserveServer, reserveClient);
    childOf(chargeClient, steps.charge!);
    childOf(chargeServer, chargeClient);
    childOf(transaction, steps.confirm!);
    assert.equal(transaction.name, 'orders.saga(checkout) transaction');
    childOf(consumer, publish);
    assert.equal(consumer.attributes['carotene.service'], 'notifications');
    assert.equal(checkout.attributes['carotene.caller'], 'gateway');
    assert.equal(reserveServer.attributes['carotene.caller'], 'orders');
    assert.ok(!checkout.error && !gateway.error, 'a successful checkout has no failed span');
    assert.equal(gateway.traceState, '', 'a tracestate with a malformed member is dropped whole');
    // every process of the chain reported into the one trace
    assert.deepEqual(new Set(trace().map((s) => s.process)), new Set(['gateway', 'orders', 'catalog', 'payments', 'notifications']));
    assert.deepEqual([...receiver.contentTypes], ['application/json']);

    // the handler's log line names the trace and its own span
    const ordersLog = readFileSync(join(shop.dataDir, 'logs', 'orders.log'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Json);
    const line = ordersLog.find((l) => l.msg === 'call' && l.handler === 'checkout' && l.trace_id === OUTSIDE_TRACE);
    assert.ok(line, 'the checkout call line carries the trace id');
    assert.equal(line.span_id, checkout.spanId);
  });

  it('starts a new trace when the outside traceparent is invalid', async () => {
    const upper = `00-${OUTSIDE_TRACE.toUpperCase()}-${OUTSIDE_SPAN}-01`;
    const res = await api('GET', `/api/orders/${orderId}`, undefined, { authorization: `Bearer ${token}`, traceparent: upper });
    assert.equal(res.status, 200);
    const answer = res.headers.get('traceresponse') ?? '';
    const [, traceId, spanId] = answer.split('-');
    assert.match(traceId ?? '', /^[\da-f]{32}$/);
    assert.notEqual(traceId, OUTSIDE_TRACE.toLowerCase());
    const gateway = await until('the gateway span of the new trace', () => receiver.spans.find((s) => s.spanId === spanId && s.process === 'gateway'));
    assert.equal(gateway.parentSpanId, undefined, 'a new trace has a root span');
    const getOrder = await until('orders.getOrder', () => receiver.spans.find((s) => s.traceId === traceId && s.name === 'orders.getOrder'));
    assert.equal(getOrder.parentSpanId, spanId);
  });

  it('passes the outside tracestate on to every hop within 32 members', async () => {
    const trace = 'a3ce929d0e0e47364bf92f3577b34da6';
    const members = Array.from({ length: 40 }, (_, i) => `v${i}=x${i}`);
    const res = await api('GET', `/api/orders/${orderId}`, undefined, {
      authorization: `Bearer ${token}`,
      traceparent: `00-${trace}-${OUTSIDE_SPAN}-01`,
      tracestate: members.join(', '),
    });
    assert.equal(res.status, 200);
    const getOrder = await until('orders.getOrder with the tracestate', () =>
      receiver.spans.find((s) => s.traceId === trace && s.name === 'orders.getOrder' && s.kind === SERVER),
    );
    // it crossed the wire from the gateway to orders as a header
    assert.equal(getOrder.process, 'orders');
    assert.equal(getOrder.traceState, members.slice(0, 32).join(','));
  });

  it('serves Prometheus metrics: the gateway in plain HTTP, each service over mutual TLS; counts follow the calls', async () => {
    const gatewayText = async () => {
      const res = await fetch(`${shop.url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      return res.text();
    };
    const count = (text: string, pattern: RegExp) => {
      const m = text.split('\n').find((l) => pattern.test(l));
      return m ? Number(m.slice(m.lastIndexOf(' ') + 1)) : 0;
    };
    const route = /^carotene_gateway_requests_total\{method="GET",route="\/api\/orders\/:id",status="200"\} /;
    const before = count(await gatewayText(), route);
    for (let i = 0; i < 3; i++) assert.equal((await api('GET', `/api/orders/${orderId}`, undefined, { authorization: `Bearer ${token}` })).status, 200);
    const afterText = await gatewayText();
    assert.equal(count(afterText, route), before + 3);
    assert.match(afterText, /^carotene_gateway_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/api\/orders\/:id"\} \d+$/m);
    assert.match(afterText, /^process_resident_memory_bytes \d+/m);
    // through a proxy (the Ingress adds these), /metrics is not there
    assert.equal((await api('GET', '/metrics', undefined, { 'x-forwarded-for': '203.0.113.9' })).status, 404);

    // a service's /metrics, as `carrot` (the supervisor's identity) reads it
    const registry = JSON.parse(readFileSync(join(shop.dataDir, 'registry.json'), 'utf8')) as { services: Record<string, { url: string }> };
    const { ca, cert, key } = readCredentials(tlsFiles(shop.dataDir, 'carrot'));
    const scrape = (service: string) =>
      new Promise<string>((resolve, reject) => {
        const req = request(`${registry.services[service]!.url}/metrics`, { ca, cert, key, checkServerIdentity: () => undefined }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`status ${res.statusCode}: ${text}`))));
        });
        req.on('error', reject);
        req.end();
      });
    const orders = await scrape('orders');
    assert.ok(count(orders, /^carotene_handler_requests_total\{service="orders",handler="getOrder",status="200",code="OK"\} /) >= 4);
    assert.ok(count(orders, /^carotene_handler_requests_total\{service="orders",handler="checkout",status="200",code="OK"\} /) === 1);
    assert.ok(count(orders, /^carotene_integration_calls_total\{service="orders",target="payments",function="charge",status="200",code="OK"\} /) === 1);
    assert.match(orders, /^carotene_handler_duration_seconds_bucket\{le="\+Inf",service="orders",handler="checkout"\} 1$/m);
    // everything was delivered: no destination has a backlog (the unit tests count a real one)
    assert.match(orders, /^# TYPE carotene_outbox_backlog gauge$/m);
    assert.doesNotMatch(orders, /^carotene_outbox_backlog\{.*\} [1-9]/m);
    assert.match(orders, /^carotene_outbox_oldest_age_seconds\{service="orders"\} \d/m);
    assert.match(orders, /^carotene_dead_letters\{service="orders"\} 0$/m);
    assert.match(orders, /^carotene_saga_instances\{service="orders",saga="checkout",status="completed"\} 1$/m);
    // the consumer counts what it handled: the confirmation of the one checkout among them
    const notifications = await scrape('notifications');
    assert.ok(
      count(notifications, /^carotene_events_handled_total\{service="notifications",type="orders\.OrderConfirmed",outcome="ok"\} /) >= 1,
      notifications,
    );
    assert.equal(count(notifications, /^carotene_events_handled_total\{service="notifications",type="orders\.OrderConfirmed",outcome="error"\} /), 0);
  });
});
