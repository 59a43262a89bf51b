// The gateway's protections over a real socket: rate limits (memory and Redis), CORS,
// size limits, slow clients, and JSON errors for all of them.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { createGateway, type Gateway } from '../src/index.ts';
import { MemoryRateLimiter } from '../src/rate-limit-memory.ts';
import { RedisRateLimiter } from '../../redis/src/rate-limit-redis.ts';
import type { GatewayOptions } from '../../carotene/src/index.ts';
import { captureLogger, FakeTransport, signingKey, signToken, testApp } from './fixtures.ts';

const REDIS_URL = process.env.CAROTENE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const answers = {
  'things.listThings': () => [],
  'things.greet': (_input: unknown, meta: { auth?: { sub: string } | undefined }) => `hello ${meta.auth?.sub ?? 'stranger'}`,
  'things.createThing': (input: unknown) => ({ id: (input as { id: string }).id }),
};

async function start(gateway: GatewayOptions, extra: { rateLimiter?: MemoryRateLimiter | RedisRateLimiter; keys?: unknown[] } = {}) {
  const transport = new FakeTransport({ ...answers, 'users.jwks': () => ({ keys: extra.keys ?? [] }) } as never);
  const g = createGateway({ app: testApp(gateway), transport, logger: captureLogger().logger, rateLimiter: extra.rateLimiter });
  const url = await g.listen('127.0.0.1', 0);
  return { g, url };
}

interface ErrorJson {
  error: { code: string; message: string; requestId: string };
}

/** Writes raw bytes and collects the whole answer until the server closes. */
function raw(url: string, write: (socket: Socket) => void): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => write(socket));
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString()));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}

async function redisReachable(t: TestContext): Promise<boolean> {
  const probe = new RedisRateLimiter({ url: REDIS_URL, prefix: `probe:${randomUUID()}:` });
  try {
    await Promise.race([probe.ready(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2_000))]);
    return true;
  } catch {
    if (process.env.CI === 'true') assert.fail(`Redis is required under CI=true but is not reachable at ${REDIS_URL} (set CAROTENE_TEST_REDIS_URL)`);
    t.skip(`Redis not reachable at ${REDIS_URL}`);
    return false;
  } finally {
    await probe.close();
  }
}

describe('gateway rate limits (in memory)', () => {
  let gw: { g: Gateway; url: string };
  before(async () => {
    gw = await start({
      rateLimit: {
        default: { capacity: 100, refillPerSecond: 100 },
        routes: { 'GET /api/things': { capacity: 3, refillPerSecond: 2 }, 'POST /api/things/:id': 'off' },
      },
    });
  });
  after(() => gw.g.close());

  it('answers 429 with Retry-After and RateLimit headers once the bucket is empty, and recovers', async () => {
    const seen: Array<[number, string | null]> = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${gw.url}/api/things`);
      seen.push([res.status, res.headers.get('ratelimit-remaining')]);
      if (res.status === 429) {
        assert.equal(res.headers.get('retry-after'), '1');
        assert.equal(res.headers.get('ratelimit-limit'), '3');
        assert.match(res.headers.get('ratelimit-reset') ?? '', /^\d+$/);
        const body = (await res.json()) as ErrorJson;
        assert.equal(body.error.code, 'RATE_LIMITED');
        assert.match(body.error.message, /Too many requests to GET \/api\/things/);
        assert.ok(body.error.requestId);
      } else await res.body?.cancel();
    }
    assert.deepEqual(seen, [
      [200, '2'],
      [200, '1'],
      [200, '0'],
      [429, '0'],
    ]);
    // 2 tokens a second: one is back after 500 ms
    await new Promise((r) => setTimeout(r, 600));
    assert.equal((await fetch(`${gw.url}/api/things`)).status, 200);
  });

  it('keeps one bucket per route, and exempts routes that are off', async () => {
    const other = await fetch(`${gw.url}/api/greeting`);
    assert.equal(other.status, 200);
    assert.equal(other.headers.get('ratelimit-limit'), '100');
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${gw.url}/api/things/t${i}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"n"}' });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('ratelimit-limit'), null);
    }
  });

  it('counts a signed-in user apart from the anonymous clients of the same address', async () => {
    const key = await signingKey('k1');
    const limited = await start({ rateLimit: { default: { capacity: 1, refillPerSecond: 0.01 } } }, { keys: [key.jwk] });
    try {
      assert.equal((await fetch(`${limited.url}/api/greeting`)).status, 200);
      assert.equal((await fetch(`${limited.url}/api/greeting`)).status, 429, 'the address is out of tokens');
      const token = await signToken(key, Date.now(), { sub: 'ada' });
      const res = await fetch(`${limited.url}/api/greeting`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200, 'the user has a bucket of her own');
      assert.equal(await res.json(), 'hello ada');
    } finally {
      await limited.g.close();
    }
  });

  it('forgets buckets once they are full again', async () => {
    let now = 0;
    const limiter = new MemoryRateLimiter({ now: () => now, sweepMs: 10 });
    await limiter.take('a', { capacity: 2, refillPerSecond: 1 });
    assert.equal(limiter.size, 1);
    now = 1_500;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(limiter.size, 0);
    await limiter.close();
  });
});

describe('gateway rate limits shared through Redis', () => {
  it('two gateway replicas share one budget, and it recovers', async (t) => {
    if (!(await redisReachable(t))) return;
    const prefix = `carotene-test:${randomUUID()}:`;
    const options: GatewayOptions = { rateLimit: { default: { capacity: 4, refillPerSecond: 5 }, redis: { url: REDIS_URL, prefix } } };
    const a = await start(options);
    const b = await start(options);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`${(i % 2 === 0 ? a : b).url}/api/things`);
        statuses.push(res.status);
        if (res.status === 429) assert.ok(Number(res.headers.get('retry-after')) >= 1);
        await res.body?.cancel();
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429], 'four in total across both replicas');
      await new Promise((r) => setTimeout(r, 450));
      const again = await fetch(`${b.url}/api/things`);
      assert.equal(again.status, 200, 'tokens came back at 5 a second');
      assert.equal(again.headers.get('ratelimit-limit'), '4');
    } finally {
      await a.g.close();
      await b.g.close();
    }
  });

  it('takes tokens atomically under concurrent requests', async (t) => {
    if (!(await redisReachable(t))) return;
    const limiter = new RedisRateLimiter({ url: REDIS_URL, prefix: `carotene-test:${randomUUID()}:` });
    try {
      const decisions = await Promise.all(Array.from({ length: 50 }, () => limiter.take('k', { capacity: 10, refillPerSecond: 0.001 })));
      assert.equal(decisions.filter((d) => d.allowed).length, 10);
    } finally {
      await limiter.close();
    }
  });

  it('lets requests through, with a warning, when Redis cannot be reached', async () => {
    const gw = await start({ rateLimit: { default: { capacity: 1, refillPerSecond: 1 }, redis: { url: 'redis://127.0.0.1:1' } } });
    try {
      assert.equal((await fetch(`${gw.url}/api/things`)).status, 200);
      assert.equal((await fetch(`${gw.url}/api/things`)).status, 200);
    } finally {
      await gw.g.close();
    }
  });
});

describe('gateway CORS', () => {
  let gw: { g: Gateway; url: string };
  before(async () => {
    gw = await start({ cors: { origins: ['https://shop.example'], credentials: true, maxAgeSeconds: 60 } });
  });
  after(() => gw.g.close());

  it('answers a preflight from an allowed origin with 204 and the allowed methods and headers', async () => {
    const res = await fetch(`${gw.url}/api/things/x`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://shop.example');
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /authorization/);
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /traceparent, tracestate/);
    assert.equal(res.headers.get('access-control-max-age'), '60');
  });

  it('refuses a preflight from another origin with a JSON 403', async () => {
    const res = await fetch(`${gw.url}/api/things/x`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.equal(((await res.json()) as ErrorJson).error.code, 'FORBIDDEN');
  });

  it('marks answers to allowed origins only', async () => {
    const ok = await fetch(`${gw.url}/api/things`, { headers: { origin: 'https://shop.example' } });
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://shop.example');
    assert.match(ok.headers.get('access-control-expose-headers') ?? '', /x-request-id/);
    // a browser app may read which trace its request became
    assert.match(ok.headers.get('access-control-expose-headers') ?? '', /traceresponse/);
    const other = await fetch(`${gw.url}/api/things`, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });
});

describe('gateway limits on size and time', () => {
  let gw: { g: Gateway; url: string };
  before(async () => {
    gw = await start({ bodyLimit: 1024, limits: { maxUrlLength: 200, maxHeaderBytes: 4096, headersTimeoutMs: 300, requestTimeoutMs: 600 } });
  });
  after(() => gw.g.close());

  it('answers an oversized body 413 and malformed JSON 400, both as JSON', async () => {
    const big = await fetch(`${gw.url}/api/things/a`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(5_000) }),
    });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as ErrorJson).error.code, 'PAYLOAD_TOO_LARGE');
    const bad = await fetch(`${gw.url}/api/things/a`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name": ' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as ErrorJson).error.code, 'MALFORMED_REQUEST');
  });

  it('answers a URL over the limit 414', async () => {
    const res = await fetch(`${gw.url}/api/things?q=${'a'.repeat(300)}`);
    assert.equal(res.status, 414);
    assert.equal(((await res.json()) as ErrorJson).error.code, 'URI_TOO_LONG');
  });

  it('answers headers over the limit 431 with a JSON body', async () => {
    const res = await fetch(`${gw.url}/api/things`, { headers: { 'x-filler': 'y'.repeat(8_000) } });
    assert.equal(res.status, 431);
    const body = (await res.json()) as ErrorJson;
    assert.equal(body.error.code, 'HEADERS_TOO_LARGE');
    assert.ok(body.error.requestId);
  });

  it('answers a client that sends its headers too slowly 408 and closes the connection', async () => {
    const started = Date.now();
    const answer = await raw(gw.url, (socket) => socket.write('GET /api/things HTTP/1.1\r\nhost: x\r\n'));
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.match(answer, /"code":"REQUEST_TIMEOUT"/);
    assert.ok(Date.now() - started < 3_000, 'the slow client was cut off promptly');
  });

  it('answers a request that is not HTTP with a JSON 400', async () => {
    const answer = await raw(gw.url, (socket) => socket.write('NOT HTTP AT ALL\r\n\r\n'));
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /"code":"MALFORMED_REQUEST"/);
  });

  it('stays up through all of it', async () => {
    const res = await fetch(`${gw.url}/health`);
    assert.equal(res.status, 200);
    assert.equal((await fetch(`${gw.url}/api/things`)).status, 200);
  });
});
