import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { testService } from '@carotene/testing';
import { UsersConfig } from './config.ts';
import users from './service.ts';
import { createSigningKey } from './tokens.ts';

const config = {
  issuer: 'test-issuer',
  audience: 'test-audience',
  tokenTtlSeconds: 600,
  admin: { email: 'Admin@Shop.test', password: 'admin-password', name: 'Admin' },
};

let t: Awaited<ReturnType<typeof start>>;
const start = () => testService(users, { config });
beforeEach(async () => {
  t = await start();
});
afterEach(() => t.close());

async function verify(token: string) {
  const jwks = createLocalJWKSet(await t.call.jwks({}));
  return jwtVerify(token, jwks, { issuer: config.issuer, audience: config.audience });
}

test('register creates an account with a lower-case email and a hashed password', async () => {
  const user = await t.call.register({ email: ' Ann@Example.COM ', password: 'ann-secret-1', name: 'Ann' });
  assert.deepEqual(Object.keys(user).sort(), ['email', 'id', 'name']);
  assert.equal(user.email, 'ann@example.com');
  const row = await t.store.users.get(user.id);
  assert.ok(row);
  assert.equal(row.roles, '');
  assert.doesNotMatch(row.passwordHash, /ann-secret-1/);
  assert.match(row.passwordHash, /^scrypt\$/);
});

test('register refuses a taken email, whatever its case', async () => {
  await t.call.register({ email: 'ann@example.com', password: 'ann-secret-1', name: 'Ann' });
  await assert.rejects(t.call.register({ email: 'ANN@example.com', password: 'other-secret', name: 'Other Ann' }), {
    code: 'EMAIL_TAKEN',
    status: 409,
  });
});

test('two registrations racing for one email: one account, one EMAIL_TAKEN', async () => {
  const results = await Promise.allSettled([1, 2, 3].map((n) => t.call.register({ email: 'race@example.com', password: `password-${n}`, name: `Racer ${n}` })));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const r of results) if (r.status === 'rejected') assert.equal(r.reason.code, 'EMAIL_TAKEN');
  assert.equal((await t.store.users.find({ email: 'race@example.com' })).length, 1);
});

test('register validates email, password length and name', async () => {
  const ok = { email: 'bob@example.com', password: 'long-enough', name: 'Bob' };
  for (const bad of [{ email: 'not-an-email' }, { password: 'short' }, { name: '' }, { name: 'x'.repeat(101) }]) {
    await assert.rejects(t.call.register({ ...ok, ...bad }), { code: 'INVALID_INPUT' }, JSON.stringify(bad));
  }
});

test('login issues a token the jwks verifies, with sub, roles, issuer, audience and expiry', async () => {
  const user = await t.call.register({ email: 'ann@example.com', password: 'ann-secret-1', name: 'Ann' });
  const { token } = await t.call.login({ email: 'Ann@Example.com', password: 'ann-secret-1' });
  const { payload, protectedHeader } = await verify(token);
  assert.equal(payload.sub, user.id);
  assert.deepEqual(payload.roles, []);
  assert.equal(protectedHeader.alg, 'ES256');
  assert.equal(typeof protectedHeader.kid, 'string');
  assert.equal(payload.exp! - payload.iat!, config.tokenTtlSeconds);
});

test('onStart creates the admin, whose token carries the admin role', async () => {
  const { token } = await t.call.login({ email: 'admin@shop.test', password: 'admin-password' });
  const { payload } = await verify(token);
  assert.deepEqual(payload.roles, ['admin']);
});

test('a wrong password and an unknown email get the same BAD_CREDENTIALS', async () => {
  await t.call.register({ email: 'ann@example.com', password: 'ann-secret-1', name: 'Ann' });
  const wrong = await t.call.login({ email: 'ann@example.com', password: 'not-her-password' }).catch((e: unknown) => e);
  const unknown = await t.call.login({ email: 'nobody@example.com', password: 'ann-secret-1' }).catch((e: unknown) => e);
  assert.deepEqual(
    [wrong, unknown].map((e) => {
      const { code, status, message } = e as { code: string; status: number; message: string };
      return { code, status, message };
    }),
    [
      { code: 'BAD_CREDENTIALS', status: 401, message: 'Email or password is wrong' },
      { code: 'BAD_CREDENTIALS', status: 401, message: 'Email or password is wrong' },
    ],
  );
});

test('me answers the account of the token, or NOT_FOUND for a vanished one', async () => {
  const user = await t.call.register({ email: 'ann@example.com', password: 'ann-secret-1', name: 'Ann' });
  assert.deepEqual(await t.call.me({}, { auth: { sub: user.id, roles: [], claims: {} } }), user);
  await assert.rejects(t.call.me({}, { auth: { sub: 'usr_gone', roles: [], claims: {} } }), { code: 'NOT_FOUND', status: 404 });
});

test('jwks publishes one public signing key and nothing private', async () => {
  const { keys } = await t.call.jwks({});
  assert.equal(keys.length, 1);
  const [key] = keys;
  assert.deepEqual(Object.keys(key!).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  assert.equal(key!.alg, 'ES256');
  assert.equal('d' in key!, false);
  const [stored] = await t.store.signing_keys.find();
  assert.equal(stored!.kid, key!.kid);
  assert.equal(typeof (JSON.parse(stored!.privateJwk) as { d?: unknown }).d, 'string');
});

test('starting again adds no second signing key and no second admin', async () => {
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  await users.onStart?.({ store: t.store as never, config: UsersConfig.parse(config), log: quiet });
  assert.equal((await t.store.signing_keys.find()).length, 1);
  assert.equal((await t.store.users.find({ email: 'admin@shop.test' })).length, 1);
});

test('rotateSigningKey: new tokens use the new key, old tokens verify until they expire', async () => {
  await t.call.register({ email: 'ann@example.com', password: 'ann-secret-1', name: 'Ann' });
  const before = (await t.call.login({ email: 'ann@example.com', password: 'ann-secret-1' })).token;
  const admin = { sub: 'usr_admin', roles: ['admin'], claims: {} };
  const rotated = await t.call.rotateSigningKey({}, { auth: admin });
  const after = (await t.call.login({ email: 'ann@example.com', password: 'ann-secret-1' })).token;
  assert.equal(decodeProtectedHeader(after).kid, rotated.kid);
  assert.notEqual(decodeProtectedHeader(before).kid, rotated.kid);
  assert.equal((await t.call.jwks({})).keys.length, 2, 'the old public key stays published');
  assert.equal((await verify(before)).payload.sub, (await verify(after)).payload.sub);
  assert.deepEqual(rotated.removed, []);
});

test('rotateSigningKey needs the admin role', async () => {
  await assert.rejects(t.call.rotateSigningKey({}), { code: 'UNAUTHENTICATED' });
  await assert.rejects(t.call.rotateSigningKey({}, { auth: { sub: 'usr_1', roles: [], claims: {} } }), { code: 'FORBIDDEN' });
});

test('a key replaced longer ago than the token lifetime is unpublished and deleted', async () => {
  const long = Date.now() - (config.tokenTtlSeconds + 120) * 1000;
  const [current] = await t.store.signing_keys.find();
  // pretend the current key was replaced by another one long ago
  await t.store.signing_keys.update(current!.kid, { createdAt: new Date(long - 1000).toISOString() });
  const middle = await createSigningKey(new Date(long));
  await t.store.signing_keys.insert(middle);
  const rotated = await t.call.rotateSigningKey({}, { auth: { sub: 'usr_admin', roles: ['admin'], claims: {} } });
  assert.deepEqual(rotated.removed, [current!.kid]);
  assert.deepEqual(rotated.published, [rotated.kid, middle.kid]);
  assert.deepEqual(
    (await t.call.jwks({})).keys.map((k) => k.kid),
    [rotated.kid, middle.kid],
  );
  assert.equal(await t.store.signing_keys.get(current!.kid), undefined, 'its private half is gone too');
});
