import { contract, rpc } from 'carotene';
import { z } from 'zod';

/** Emails are compared in lower case, so `Ann@Shop.test` and `ann@shop.test` are one account. */
const Email = z.string().trim().toLowerCase().max(254).pipe(z.email());

const PublicUser = z.object({ id: z.string(), email: z.string(), name: z.string() });

/** A public EC signing key as the gateway needs it: no private parts by construction. */
export const PublicJwk = z.object({
  kty: z.literal('EC'),
  crv: z.string(),
  x: z.string(),
  y: z.string(),
  kid: z.string(),
  alg: z.string(),
  use: z.literal('sig'),
});

/**
 * Accounts and sign-in. Issues the tokens that the gateway verifies through `jwks`.
 *
 * ```ts
 * const { token } = await ctx.call.users.login({ email: 'ann@shop.test', password: '...' });
 * ```
 */
export const Users = contract('users', {
  register: rpc({
    input: z.object({ email: Email, password: z.string().min(8).max(200), name: z.string().trim().min(1).max(100) }),
    output: PublicUser,
    errors: { EMAIL_TAKEN: 409 },
  }),
  login: rpc({
    input: z.object({ email: Email, password: z.string().min(1).max(200) }),
    output: z.object({ token: z.string() }),
    errors: { BAD_CREDENTIALS: 401 },
  }),
  me: rpc({
    input: z.object({}),
    output: PublicUser,
    errors: { NOT_FOUND: 404 },
  }),
  jwks: rpc({
    input: z.object({}),
    output: z.object({ keys: z.array(PublicJwk) }),
    idempotent: true,
  }),
  /** Admin only: new tokens are signed with a new key; tokens of the old keys verify until they expire. */
  rotateSigningKey: rpc({
    input: z.object({}),
    output: z.object({ kid: z.string(), published: z.array(z.string()), removed: z.array(z.string()) }),
  }),
});
