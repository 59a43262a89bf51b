import { randomUUID } from 'node:crypto';
import { handler, implement, isCaroteneError } from 'carotene';
import { UsersConfig } from './config.ts';
import { Users } from './contract.ts';
import { migrations } from './migrations/index.ts';
import { decoyHash, hashPassword, verifyPassword } from './password.ts';
import { formatRoles, parseRoles } from './roles.ts';
import { SigningKeyTable, UserTable } from './tables.ts';
import { createSigningKey, currentKey, publicJwkOf, publishedKeys, signAccessToken } from './tokens.ts';

export default implement(Users, {
  stores: [UserTable, SigningKeyTable],
  config: UsersConfig,
  migrations,
  async onStart({ store, config, log }) {
    if ((await store.signing_keys.find({}, { limit: 1 })).length === 0) {
      const key = await createSigningKey();
      await store.signing_keys.insert(key);
      log.info({ kid: key.kid }, 'created token signing key');
    }
    const admin = (await store.users.find({ email: config.admin.email }))[0];
    if (!admin) {
      try {
        await store.users.insert({
          id: `usr_${randomUUID()}`,
          email: config.admin.email,
          name: config.admin.name,
          passwordHash: await hashPassword(config.admin.password),
          roles: formatRoles(['admin']),
          createdAt: new Date().toISOString(),
        });
        log.info({ email: config.admin.email }, 'created admin user');
      } catch (err) {
        // Another replica starting at the same moment created it first.
        if (!isCaroteneError(err, 'CONFLICT')) throw err;
      }
    } else if (!parseRoles(admin.roles).includes('admin')) {
      await store.users.update(admin.id, { roles: formatRoles([...parseRoles(admin.roles), 'admin']) });
    }
  },
}).handlers({
  register: handler({ updates: [UserTable], route: 'POST /api/users/register', status: 201 }, async ({ email, password, name }, ctx) => {
    const taken = () => ctx.reject('EMAIL_TAKEN', `An account for ${email} already exists; log in instead`);
    if ((await ctx.store.users.find({ email }, { limit: 1 })).length > 0) throw taken();
    const user = {
      id: `usr_${randomUUID()}`,
      email,
      name,
      passwordHash: await hashPassword(password),
      roles: formatRoles([]),
      createdAt: new Date().toISOString(),
    };
    try {
      await ctx.store.users.insert(user);
    } catch (err) {
      // Two registrations raced past the check above; the unique index let only one in.
      if (isCaroteneError(err, 'CONFLICT')) throw taken();
      throw err;
    }
    return { id: user.id, email: user.email, name: user.name };
  }),

  login: handler({ reads: [UserTable, SigningKeyTable], route: 'POST /api/users/login' }, async ({ email, password }, ctx) => {
    const user = (await ctx.store.users.find({ email }, { limit: 1 }))[0];
    // Same work and same answer for an unknown email as for a wrong password.
    const ok = await verifyPassword(password, user?.passwordHash ?? (await decoyHash()));
    if (!user || !ok) throw ctx.reject('BAD_CREDENTIALS', 'Email or password is wrong');
    const key = currentKey(await ctx.store.signing_keys.find());
    if (!key) throw new Error('no signing key: onStart has not run');
    const token = await signAccessToken(
      key,
      { sub: user.id, roles: parseRoles(user.roles) },
      {
        issuer: ctx.config.issuer,
        audience: ctx.config.audience,
        ttlSeconds: ctx.config.tokenTtlSeconds,
      },
    );
    return { token };
  }),

  me: handler({ reads: [UserTable], route: 'GET /api/users/me', auth: 'required' }, async (_input, ctx) => {
    const user = await ctx.store.users.get(ctx.auth.sub);
    if (!user) throw ctx.reject('NOT_FOUND', 'The account of this token no longer exists');
    return { id: user.id, email: user.email, name: user.name };
  }),

  // Only keys whose tokens may still be valid: a retired key disappears once its last token expired.
  jwks: handler({ reads: [SigningKeyTable] }, async (_input, ctx) => ({
    keys: publishedKeys(await ctx.store.signing_keys.find(), ctx.config.tokenTtlSeconds).map(publicJwkOf),
  })),

  rotateSigningKey: handler({ updates: [SigningKeyTable], route: 'POST /api/users/keys/rotate', roles: ['admin'] }, async (_input, ctx) => {
    const key = await createSigningKey();
    await ctx.store.signing_keys.insert(key);
    const all = await ctx.store.signing_keys.find();
    const published = publishedKeys(all, ctx.config.tokenTtlSeconds);
    // keys no token can need any more: their private halves go too
    const removed = all.filter((k) => !published.includes(k)).map((k) => k.kid);
    for (const kid of removed) await ctx.store.signing_keys.delete(kid);
    ctx.log.info({ kid: key.kid, by: ctx.auth.sub, removed }, 'rotated token signing key');
    return { kid: key.kid, published: published.map((k) => k.kid), removed };
  }),
});
