// The shop's security as real processes under `carrot dev`: tokens, roles, signing-key
// rotation, mutual TLS between the processes, certificate rotation, and rate limits.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { Pool } from 'undici';
import { startShop, type RunningShop } from './shop-process.ts';

interface Json {
  // biome-ignore lint/suspicious/noExplicitAny: test reads arbitrary JSON
  [key: string]: any;
}

const shopDir = fileURLToPath(new URL('..', import.meta.url));
const carrot = fileURLToPath(new URL('../../../packages/cli/bin/carrot.js', import.meta.url));
const ADMIN = { email: 'admin@shop.test', password: 'change-me-admin' };

describe('shop security end to end (carrot dev, one process per service)', () => {
  let shop: RunningShop;
  const api = async (method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}) => {
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${shop.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json, headers: res.headers };
  };
  const login = async (email: string, password: string) => {
    const res = await api('POST', '/api/users/login', { email, password });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.token as string;
  };
  /** The users service's current signing key, read from its own database (only a test may). */
  const usersKey = (): { kid: string; privateJwk: JWK } => {
    const db = new Database(join(shop.dataDir, 'db', 'users.sqlite'), { readonly: true });
    try {
      const row = db.prepare('select kid, "privateJwk" from signing_keys order by "createdAt" desc limit 1').get() as { kid: string; privateJwk: string };
      return { kid: row.kid, privateJwk: JSON.parse(row.privateJwk) as JWK };
    } finally {
      db.close();
    }
  };
  const sign = async (claims: JWTPayload, key = usersKey()) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub: userId, roles: [], iss: 'carotene-shop', aud: 'shop-api', iat: now, exp: now + 600, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .sign(await importJWK(key.privateJwk, 'ES256'));
  };
  const expect401 = async (token: string, message: RegExp) => {
    const res = await api('GET', '/api/users/me', undefined, token);
    assert.equal(res.status, 401, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'UNAUTHENTICATED');
    assert.match(res.body.error.message, message);
    assert.ok(res.body.error.requestId);
  };

  let userId = '';
  let token = '';

  before(async () => {
    shop = await startShop();
    const reg = await api('POST', '/api/users/register', { email: 'sec@example.com', password: 'secure enough', name: 'Sec' });
    assert.equal(reg.status, 201);
    userId = reg.body.id;
    token = await login('sec@example.com', 'secure enough');
  });
  after(async () => {
    if (shop) assert.equal(await shop.stop(), 0, `carrot dev exits cleanly on SIGTERM:\n${shop.output()}`);
  });

  it("accepts a token signed with the users service's key", async () => {
    assert.equal((await api('GET', '/api/users/me', undefined, await sign({}))).status, 200);
  });

  it('refuses expired, not-yet-valid, wrong-audience, wrong-issuer, alg none, tampered and wrong-key tokens with a clear 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect401(await sign({ iat: now - 7200, exp: now - 3600 }), /expired/);
    await expect401(await sign({ nbf: now + 3600 }), /not valid yet/);
    await expect401(await sign({ aud: 'another-api' }), /wrong audience/);
    await expect401(await sign({ iss: 'someone-else' }), /wrong issuer/);
    const [, payload] = token.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    await expect401(none, /algorithm 'none' is not accepted|malformed/);
    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), roles: ['admin'] })).toString('base64url');
    await expect401(`${h}.${forged}.${s}`, /signature is invalid/);
    // the right kid, the wrong private key
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    await expect401(await sign({}, { kid: usersKey().kid, privateJwk: await exportJWK(privateKey) }), /signature is invalid/);
    // HMAC keyed with the public key (algorithm confusion)
    const hmac = await new SignJWT({ sub: userId, roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256', kid: usersKey().kid })
      .setIssuer('carotene-shop')
      .setAudience('shop-api')
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(JSON.stringify(usersKey().privateJwk)));
    await expect401(hmac, /algorithm 'HS256' is not accepted/);
  });

  it('answers 403 for a valid token without the role a route needs', async () => {
    const res = await api('POST', '/api/products', { name: 'Nope', priceCents: 100, stock: 1 }, token);
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'FORBIDDEN');
    assert.match(res.body.error.message, /'admin'/);
  });

  it('rotates the signing key: new tokens use the new key and verify, old tokens keep working', async () => {
    const admin = await login(ADMIN.email, ADMIN.password);
    assert.equal((await api('POST', '/api/users/keys/rotate', {}, token)).status, 403, 'only an admin may rotate');
    const oldKid = decodeProtectedHeader(token).kid;
    const rotated = await api('POST', '/api/users/keys/rotate', {}, admin);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.notEqual(rotated.body.kid, oldKid);
    assert.deepEqual(rotated.body.published, [rotated.body.kid, oldKid]);
    const fresh = await login('sec@example.com', 'secure enough');
    assert.equal(decodeProtectedHeader(fresh).kid, rotated.body.kid);
    // the gateway fetches the new key set when a token names a key it has not seen (at most every 2 s)
    let me = await api('GET', '/api/users/me', undefined, fresh);
    for (const until = Date.now() + 5_000; me.status === 401 && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 250));
      me = await api('GET', '/api/users/me', undefined, fresh);
    }
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal((await api('GET', '/api/users/me', undefined, token)).status, 200, 'a token of the old key verifies until it expires');
  });

  it('refuses, between the processes, a client without a certificate and a service that did not declare the dependency', async () => {
    const registry = JSON.parse(readFileSync(join(shop.dataDir, 'registry.json'), 'utf8')) as { services: Record<string, { url: string }> };
    const certs = join(shop.dataDir, 'certs');
    const ca = readFileSync(join(certs, 'ca-bundle.pem'), 'utf8');
    const noCert = new Pool(registry.services.users!.url, { connect: { ca, checkServerIdentity: () => undefined } });
    await assert.rejects(noCert.request({ method: 'POST', path: '/rpc/register', body: '{}' }));
    await noCert.close();
    // payments has a valid certificate, but does not list users among its integrations
    const asPayments = new Pool(registry.services.users!.url, {
      connect: {
        ca,
        cert: readFileSync(join(certs, 'payments.crt'), 'utf8'),
        key: readFileSync(join(certs, 'payments.key'), 'utf8'),
        checkServerIdentity: () => undefined,
      },
    });
    const res = await asPayments.request({
      method: 'POST',
      path: '/rpc/register',
      headers: { 'content-type': 'application/json', 'carotene-caller': 'gateway' },
      body: JSON.stringify({ email: 'x@example.com', password: 'whatever1', name: 'X' }),
    });
    assert.equal(res.statusCode, 403);
    const body = (await res.body.json()) as Json;
    assert.equal(body.error.code, 'CALLER_NOT_ALLOWED');
    assert.match(body.error.message, /'payments' may not call users\.register/);
    await asPayments.close();
  });

  it('rotates every certificate under load without a failed request', async () => {
    const caBefore = readFileSync(join(shop.dataDir, 'certs', 'ca', 'ca.crt'), 'utf8');
    let ok = 0;
    const failures: string[] = [];
    let running = true;
    const worker = async () => {
      while (running) {
        const res = await api('GET', '/api/users/me', undefined, token).catch((err: Error) => ({ status: 0, body: { error: err.message } as Json }));
        if (res.status === 200) ok++;
        else failures.push(`${res.status} ${JSON.stringify(res.body)}`);
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    const rotate = spawn(process.execPath, [carrot, 'certs', 'rotate', shopDir, '--data-dir', shop.dataDir, '--settle-ms', '1000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    rotate.stdout.on('data', (c: Buffer) => (out += c.toString()));
    rotate.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => rotate.on('exit', resolve));
    // let every process notice the new files, and keep calling meanwhile
    await new Promise((r) => setTimeout(r, 1_000));
    running = false;
    await Promise.all(workers);
    assert.equal(code, 0, out);
    assert.match(out, /issued users/);
    assert.deepEqual(failures, []);
    assert.ok(ok > 20, `requests kept flowing (${ok})`);
    const caAfter = readFileSync(join(shop.dataDir, 'certs', 'ca', 'ca.crt'), 'utf8');
    assert.notEqual(caAfter, caBefore);
    const users = new X509Certificate(readFileSync(join(shop.dataDir, 'certs', 'users.crt')));
    assert.ok(users.checkIssued(new X509Certificate(caAfter)), 'the service certificates come from the new CA');
    const log = readFileSync(join(shop.dataDir, 'logs', 'users.log'), 'utf8');
    assert.match(log, /TLS credentials reloaded/);
    // and the whole path still works: gateway → orders → catalog
    assert.equal((await api('GET', '/api/products?limit=1')).status, 200);
  });

  it('limits sign-in attempts per client with 429 and Retry-After, and recovers', async () => {
    let tripped: Awaited<ReturnType<typeof api>> | undefined;
    for (let i = 0; i < 30 && !tripped; i++) {
      const res = await api('POST', '/api/users/login', { email: 'sec@example.com', password: 'wrong password' });
      if (res.status === 429) tripped = res;
      else assert.equal(res.status, 401);
    }
    assert.ok(tripped, 'the limit tripped');
    assert.equal(tripped.body.error.code, 'RATE_LIMITED');
    assert.equal(tripped.headers.get('retry-after'), '1');
    assert.equal(tripped.headers.get('ratelimit-limit'), '20');
    assert.equal(tripped.headers.get('ratelimit-remaining'), '0');
    await new Promise((r) => setTimeout(r, 1_100));
    assert.equal((await api('POST', '/api/users/login', { email: 'sec@example.com', password: 'secure enough' })).status, 200);
    // other routes were never limited, and the gateway is up
    assert.equal((await api('GET', '/api/products?limit=1')).status, 200);
    assert.equal((await fetch(`${shop.url}/health`)).status, 200);
  });

  it('answers an oversized body 413 and malformed JSON 400', async () => {
    const big = await fetch(`${shop.url}/api/users/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }),
    });
    assert.equal(big.status, 413);
    const bad = await fetch(`${shop.url}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: '{"items": [',
    });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as Json).error.code, 'MALFORMED_REQUEST');
  });
});
