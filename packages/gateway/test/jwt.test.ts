// End-user tokens through the gateway: verification against the app's key set, route
// policies, key rotation and key-service failures.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { platformError } from '../../carotene/src/errors.ts';
import { createGateway } from '../src/index.ts';
import { createTokenVerifier } from '../src/jwt.ts';
import { AUDIENCE, authOptions, captureLogger, FakeTransport, ISSUER, signingKey, signToken, testApp, type SigningKey } from './fixtures.ts';

const START = 1_750_000_000_000;

let k1: SigningKey;
let k2: SigningKey;
let stranger: SigningKey;

before(async () => {
  k1 = await signingKey('k1');
  k2 = await signingKey('k2', 'EdDSA');
  stranger = await signingKey('k1'); // same kid as k1, different key pair
});

/** A gateway whose key service serves `keys` (mutable) and whose clock the test moves. */
function setup() {
  const state = { clock: START, keys: [k1.jwk], keysDown: false };
  const transport = new FakeTransport({
    'users.jwks': () => {
      if (state.keysDown) throw platformError('UNAVAILABLE', 'users is unreachable (ECONNREFUSED)', { service: 'users' });
      return { keys: state.keys };
    },
    'things.getThing': (input) => ({ thing: input }),
    'things.greet': (_input, meta) => `hello ${meta.auth?.sub ?? 'stranger'}`,
    'things.listThings': (_input, meta) => [{ auth: meta.auth ?? null }],
  });
  const { logger, lines } = captureLogger();
  const gateway = createGateway({ app: testApp(), transport, logger, now: () => state.clock });
  const get = (url: string, token?: string, authorization = token && `Bearer ${token}`) =>
    gateway.server.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} });
  return { state, transport, server: gateway.server, get, lines };
}

async function expect401(res: { statusCode: number; json(): unknown; headers: Record<string, unknown> }, message: RegExp) {
  assert.equal(res.statusCode, 401);
  const body = res.json() as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'UNAUTHENTICATED');
  assert.match(body.error.message, message);
  assert.match(String(res.headers['www-authenticate']), /^Bearer realm="test-shop"/);
}

describe('gateway tokens', () => {
  it('passes the verified claims on to the service in meta.auth', async () => {
    const { get, transport } = setup();
    const token = await signToken(k1, START, { sub: 'user_7', roles: ['admin', 'staff'], email: 'a@example.com' });
    const res = await get('/api/things/p1', token);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { thing: { id: 'p1' } });
    const auth = transport.routed()[0]!.meta.auth!;
    assert.equal(auth.sub, 'user_7');
    assert.deepEqual(auth.roles, ['admin', 'staff']);
    assert.equal(auth.claims['email'], 'a@example.com');
    assert.equal(auth.claims['iss'], ISSUER);
  });

  it('verifies EdDSA tokens too', async () => {
    const { get, state } = setup();
    state.keys = [k1.jwk, k2.jwk];
    const res = await get('/api/things/p1', await signToken(k2, START));
    assert.equal(res.statusCode, 200);
  });

  it('answers 401 for a missing or non-bearer token on a required route', async () => {
    const { get, transport } = setup();
    await expect401(await get('/api/things/p1'), /^Missing bearer token/);
    await expect401(await get('/api/things/p1', undefined, 'Basic dXNlcjpwYXNz'), /must be 'Bearer <token>'/);
    assert.equal(transport.routed().length, 0);
  });

  it('refuses expired, not-yet-valid, wrong-audience and wrong-issuer tokens, each with its reason', async () => {
    const { get, transport } = setup();
    const s = Math.floor(START / 1000);
    await expect401(await get('/api/things/p1', await signToken(k1, START, { iat: s - 7200, exp: s - 3600 })), /expired/);
    await expect401(await get('/api/things/p1', await signToken(k1, START, { nbf: s + 3600 })), /not valid yet/);
    await expect401(await get('/api/things/p1', await signToken(k1, START, { aud: 'other-api' })), /wrong audience/);
    await expect401(await get('/api/things/p1', await signToken(k1, START, { iss: 'https://evil.example' })), /wrong issuer/);
    await expect401(await get('/api/things/p1', await signToken(k1, START, { sub: undefined })), /no 'sub' claim/);
    await expect401(await get('/api/things/p1', await signToken(k1, START, { roles: 'admin' })), /'roles' claim must be an array/);
    assert.equal(transport.routed().length, 0);
  });

  it('follows the injected clock: a token expires when the clock passes exp', async () => {
    const { get, state } = setup();
    const token = await signToken(k1, START, { exp: Math.floor(START / 1000) + 60 });
    assert.equal((await get('/api/things/p1', token)).statusCode, 200);
    state.clock = START + 120_000;
    await expect401(await get('/api/things/p1', token), /expired/);
  });

  it("refuses 'alg: none' and HMAC tokens", async () => {
    const { get, transport } = setup();
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const s = Math.floor(START / 1000);
    const claims = { sub: 'user_1', roles: ['admin'], iss: ISSUER, aud: AUDIENCE, exp: s + 3600 };
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    await expect401(await get('/api/things/p1', none), /algorithm 'none' is not accepted; use one of ES256, EdDSA, RS256/);
    // HMAC keyed with the public key's own JSON: the classic algorithm confusion
    const hmac = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new TextEncoder().encode(JSON.stringify(k1.jwk)));
    await expect401(await get('/api/things/p1', hmac), /algorithm 'HS256' is not accepted/);
    assert.equal(transport.routed().length, 0);
  });

  it('refuses a tampered payload and a token signed by another key with the same kid', async () => {
    const { get, transport } = setup();
    const token = await signToken(k1, START, { roles: [] });
    const [h, , sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'user_1', roles: ['admin'], iss: ISSUER, aud: AUDIENCE, exp: Math.floor(START / 1000) + 3600 })).toString(
      'base64url',
    );
    await expect401(await get('/api/things/p1', `${h}.${forged}.${sig}`), /signature is invalid/);
    await expect401(await get('/api/things/p1', await signToken(stranger, START)), /signature is invalid/);
    await expect401(await get('/api/things/p1', 'not-a-jwt'), /malformed/);
    assert.equal(transport.routed().length, 0);
  });

  it('refuses a token signed by a key the key set does not hold, naming its kid', async () => {
    const { get } = setup();
    await expect401(await get('/api/things/p1', await signToken(k2, START)), /unknown key 'k2'/);
  });

  it('answers 403 naming the role a valid token lacks', async () => {
    const { get, transport } = setup();
    const res = await get('/api/things/p1', await signToken(k1, START, { roles: ['staff'] }));
    assert.equal(res.statusCode, 403);
    const body = res.json() as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'FORBIDDEN');
    assert.match(body.error.message, /requires role 'admin'/);
    assert.equal(transport.routed().length, 0);
  });

  it("'optional' routes: no token is fine, a valid one is passed on, an invalid one is 401", async () => {
    const { get, transport } = setup();
    const anonymous = await get('/api/greeting');
    assert.equal(anonymous.statusCode, 200);
    assert.equal(anonymous.json(), 'hello stranger');
    assert.equal(transport.keyFetches(), 0, 'no keys needed for an anonymous request');

    const known = await get('/api/greeting', await signToken(k1, START, { sub: 'user_9', roles: [] }));
    assert.equal(known.statusCode, 200);
    assert.equal(known.json(), 'hello user_9');

    await expect401(await get('/api/greeting', await signToken(k1, START, { aud: 'elsewhere' })), /wrong audience/);
    assert.equal(transport.routed().length, 2);
  });

  it("'none' routes read no token at all", async () => {
    const { get, transport } = setup();
    const res = await get('/api/things', 'garbage.token.here');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), [{ auth: null }]);
    assert.equal(transport.keyFetches(), 0);
  });

  it('keeps serving after each bad token', async () => {
    const { get } = setup();
    const good = await signToken(k1, START);
    for (const bad of ['x', await signToken(k2, START), await signToken(k1, START, { aud: 'no' })]) {
      assert.equal((await get('/api/things/p1', bad)).statusCode, 401);
      assert.equal((await get('/api/things/p1', good)).statusCode, 200);
    }
  });
});

describe('gateway token claims, as docs/gateway.md lists them', () => {
  /** A gateway like setup()'s whose auth options differ by `auth`. */
  function withAuth(auth: Partial<typeof authOptions> & Record<string, unknown>) {
    const transport = new FakeTransport({ 'users.jwks': () => ({ keys: [k1.jwk] }), 'things.getThing': (input) => ({ thing: input }) });
    const gateway = createGateway({ app: testApp({ auth: { ...authOptions, ...auth } }), transport, logger: captureLogger().logger, now: () => START });
    return (token: string) => gateway.server.inject({ method: 'GET', url: '/api/things/p1', headers: { authorization: `Bearer ${token}` } });
  }
  const s = Math.floor(START / 1000);

  it('refuses a correctly signed token without exp, unless the config says requireExpiry: false', async () => {
    const { get } = setup();
    const forever = await signToken(k1, START, { exp: undefined });
    await expect401(await get('/api/things/p1', forever), /no 'exp' claim/);
    assert.equal((await withAuth({ requireExpiry: false })(forever)).statusCode, 200);
    assert.equal((await withAuth({ requireExpiry: true })(forever)).statusCode, 401);
  });

  it('refuses an iat in the future beyond the clock skew, and accepts one within it', async () => {
    const { get } = setup();
    await expect401(await get('/api/things/p1', await signToken(k1, START, { iat: s + 60 })), /issued in the future/);
    assert.equal((await get('/api/things/p1', await signToken(k1, START, { iat: s + 4 }))).statusCode, 200, 'within the default 5 s');
    const lenient = withAuth({ clockSkewSeconds: 120 });
    assert.equal((await lenient(await signToken(k1, START, { iat: s + 60 }))).statusCode, 200);
    // the skew applies to exp and nbf too
    assert.equal((await lenient(await signToken(k1, START, { exp: s - 60 }))).statusCode, 200);
    assert.equal((await lenient(await signToken(k1, START, { nbf: s + 60 }))).statusCode, 200);
    assert.equal((await withAuth({})(await signToken(k1, START, { exp: s - 60 }))).statusCode, 401);
  });

  it('checks typ when the token has one: JWT and at+jwt (any case, application/ or not) pass, others are 401', async () => {
    const { get } = setup();
    for (const typ of ['JWT', 'jwt', 'at+jwt', 'application/at+jwt', 'AT+JWT', null]) {
      assert.equal((await get('/api/things/p1', await signToken(k1, START, {}, { typ }))).statusCode, 200, `typ ${typ}`);
    }
    for (const typ of ['JOSE', 'dpop+jwt', 'logout+jwt', 'secevent+jwt', '']) {
      await expect401(
        await get('/api/things/p1', await signToken(k1, START, {}, { typ })),
        /Token type '.*' is not accepted; expected a typ header of JWT or at\+jwt/,
      );
    }
    const strict = withAuth({ tokenTypes: ['at+jwt'] });
    assert.equal((await strict(await signToken(k1, START, {}, { typ: 'at+jwt' }))).statusCode, 200);
    assert.equal((await strict(await signToken(k1, START, {}, { typ: 'JWT' }))).statusCode, 401);
  });

  it('refuses a negative clock skew and an empty list of token types when the gateway is built', () => {
    assert.throws(() => withAuth({ clockSkewSeconds: -1 }), { code: 'INVALID_CONFIG', message: /gateway\.auth: clockSkewSeconds must be/ });
    assert.throws(() => withAuth({ tokenTypes: [] }), { code: 'INVALID_CONFIG', message: /gateway\.auth: tokenTypes is empty/ });
  });

  it('refuses nbf, exp and iat that are not numbers as a malformed claim', async () => {
    const { get, transport } = setup();
    for (const claim of ['nbf', 'exp', 'iat']) {
      for (const value of [String(s), '1e12', null, true, [s], { s }]) {
        await expect401(
          await get('/api/things/p1', await signToken(k1, START, { [claim]: value })),
          new RegExp(`^Token has a malformed claim: '${claim}' must be a number`),
        );
      }
    }
    assert.equal(transport.routed().length, 0);
  });
});

describe('gateway key set', () => {
  it('fetches the keys once through the transport with empty input, then caches them', async () => {
    const { get, transport } = setup();
    const token = await signToken(k1, START);
    for (let i = 0; i < 3; i++) assert.equal((await get('/api/things/p1', token)).statusCode, 200);
    assert.equal(transport.keyFetches(), 1);
    const fetch = transport.calls.find((c) => c.fn === 'jwks')!;
    assert.equal(fetch.service, 'users');
    assert.deepEqual(fetch.input, {});
    assert.equal(fetch.meta.caller, 'gateway');
  });

  it('picks up a rotated key when a token names it, at most every 30 s', async () => {
    const { get, transport, state } = setup();
    assert.equal((await get('/api/things/p1', await signToken(k1, START))).statusCode, 200);
    state.keys = [k1.jwk, k2.jwk]; // the key service rotates in k2

    state.clock = START + 10_000;
    await expect401(await get('/api/things/p1', await signToken(k2, state.clock)), /unknown key 'k2'/);
    assert.equal(transport.keyFetches(), 1, 'no refetch within 30 s of the last one');

    state.clock = START + 31_000;
    const res = await get('/api/things/p1', await signToken(k2, state.clock));
    assert.equal(res.statusCode, 200, 'the new key verifies after a refetch');
    assert.equal(transport.keyFetches(), 2);

    state.clock = START + 40_000;
    for (let i = 0; i < 3; i++) await get('/api/things/p1', await signToken(await signingKey(`rand${i}`), state.clock));
    assert.equal(transport.keyFetches(), 2, 'random kids cannot make the gateway hammer the key service');
  });

  it('refreshes the keys after their TTL, so a removed key stops verifying', async () => {
    const { get, transport, state } = setup();
    state.keys = [k1.jwk, k2.jwk];
    const old = await signToken(k1, START, { exp: Math.floor(START / 1000) + 7200 });
    assert.equal((await get('/api/things/p1', old)).statusCode, 200);
    state.keys = [k2.jwk]; // k1 retired
    state.clock = START + 60_000;
    assert.equal((await get('/api/things/p1', old)).statusCode, 200, 'cached keys serve within the TTL');
    state.clock = START + 5 * 60_000 + 1;
    await expect401(await get('/api/things/p1', old), /unknown key 'k1'/);
    assert.equal(transport.keyFetches(), 2);
  });

  it('answers 503 UNAVAILABLE, not 401, when the keys cannot be fetched, and recovers', async () => {
    const { get, state, lines } = setup();
    state.keysDown = true;
    const token = await signToken(k1, START);
    const res = await get('/api/things/p1', token);
    assert.equal(res.statusCode, 503);
    const body = res.json() as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'UNAVAILABLE');
    assert.match(body.error.message, /Token keys are unavailable/);
    assert.doesNotMatch(body.error.message, /ECONNREFUSED|users\.jwks/, 'internal detail stays in the log');
    assert.ok(
      lines.some((l) => /users\.jwks/.test(String(l['cause']))),
      'the log says which function failed',
    );

    state.keysDown = false;
    assert.equal((await get('/api/things/p1', token)).statusCode, 200, 'serves again once the keys come back');
  });

  it('answers 503 when the key service returns something that is not a key set', async () => {
    const { get, state } = setup();
    state.keys = 'nope' as never;
    assert.equal((await get('/api/things/p1', await signToken(k1, START))).statusCode, 503);
  });

  it('keeps serving with the cached keys when a TTL refresh fails', async () => {
    const { get, state, transport } = setup();
    const token = await signToken(k1, START, { exp: Math.floor(START / 1000) + 7200 });
    assert.equal((await get('/api/things/p1', token)).statusCode, 200);
    state.keysDown = true;
    state.clock = START + 6 * 60_000;
    assert.equal((await get('/api/things/p1', token)).statusCode, 200);
    assert.equal(transport.keyFetches(), 2, 'the refresh was attempted');
  });

  it('fetches the keys once for concurrent first requests', async () => {
    const { server, transport } = setup();
    const token = await signToken(k1, START);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => server.inject({ method: 'GET', url: '/api/things/p1', headers: { authorization: `Bearer ${token}` } })),
    );
    assert.deepEqual(
      results.map((r) => r.statusCode),
      [200, 200, 200, 200, 200],
    );
    assert.equal(transport.keyFetches(), 1);
  });
});

describe('gateway verified-token cache', () => {
  /** A verifier on its own, over a key service serving `keys`, with a clock the test moves. */
  function verifierOf(cacheSize?: number) {
    const state = { clock: START, keys: [k1.jwk], fetches: 0 };
    const verifier = createTokenVerifier({
      auth: authOptions,
      now: () => state.clock,
      fetchKeys: async () => {
        state.fetches++;
        return { keys: state.keys };
      },
      ...(cacheSize === undefined ? {} : { cacheSize }),
    });
    return { state, verifier };
  }

  it('answers a token it verified from memory: the same frozen claims, no second signature check', async () => {
    const { verifier } = verifierOf();
    const token = await signToken(k1, START, { sub: 'user_3', roles: ['staff'] });
    const first = await verifier.verify(token, 'r1');
    assert.equal(verifier.cachedTokens, 1);
    const second = await verifier.verify(token, 'r2');
    assert.equal(second, first, 'the remembered claims object, not a new verification');
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.roles) && Object.isFrozen(first.claims));
    assert.deepEqual(first.roles, ['staff']);
  });

  it('never serves a remembered token past its exp', async () => {
    const { verifier, state } = verifierOf();
    const exp = Math.floor(START / 1000) + 60;
    const token = await signToken(k1, START, { exp });
    await verifier.verify(token, 'r1');
    state.clock = exp * 1000 + 6_000; // past exp and its 5 s tolerance
    await assert.rejects(verifier.verify(token, 'r2'), /expired/);
    assert.equal(verifier.cachedTokens, 0, 'the expired entry is dropped');
  });

  it('checks a tampered copy of a remembered token in full, and remembers no token that failed', async () => {
    const { verifier } = verifierOf();
    const token = await signToken(k1, START, { roles: [] });
    await verifier.verify(token, 'r1');
    const [h, , sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'user_1', roles: ['admin'], iss: ISSUER, aud: AUDIENCE, exp: Math.floor(START / 1000) + 3600 })).toString(
      'base64url',
    );
    await assert.rejects(verifier.verify(`${h}.${forged}.${sig}`, 'r2'), /signature is invalid/);
    await assert.rejects(verifier.verify(await signToken(k1, START, { aud: 'elsewhere' }), 'r3'), /wrong audience/);
    assert.equal(verifier.cachedTokens, 1);
  });

  it('forgets every verified token when the key set is fetched again', async () => {
    const { verifier, state } = verifierOf();
    const token = await signToken(k1, START, { exp: Math.floor(START / 1000) + 7200 });
    await verifier.verify(token, 'r1');
    state.keys = [k2.jwk]; // k1 retired
    state.clock = START + 5 * 60_000 + 1; // the keys' TTL is up
    await assert.rejects(verifier.verify(token, 'r2'), /unknown key 'k1'/);
    assert.equal(state.fetches, 2);
    assert.equal(verifier.cachedTokens, 0);
  });

  it('holds at most cacheSize tokens, none over 4 KB, and none with cacheSize 0', async () => {
    const small = verifierOf(2);
    for (const sub of ['a', 'b', 'c']) await small.verifier.verify(await signToken(k1, START, { sub }), sub);
    assert.equal(small.verifier.cachedTokens, 2);
    const long = verifierOf();
    await long.verifier.verify(await signToken(k1, START, { padding: 'x'.repeat(5_000) }), 'r1');
    assert.equal(long.verifier.cachedTokens, 0, 'a token over 4 KB is verified but not remembered');
    const off = verifierOf(0);
    const token = await signToken(k1, START);
    const first = await off.verifier.verify(token, 'r1');
    assert.notEqual(await off.verifier.verify(token, 'r2'), first);
    assert.equal(off.verifier.cachedTokens, 0);
  });
});
