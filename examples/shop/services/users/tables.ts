import { table } from 'carotene';
import { z } from 'zod';

/** `roles` is a space-separated list (`'admin'`, or `''` for a customer); see `roles.ts`. */
export const UserTable = table('users', {
  key: 'id',
  schema: z.object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    passwordHash: z.string(),
    roles: z.string(),
    createdAt: z.string(),
  }),
  // registration races are settled here, not by the read-before-insert in `register`
  indexes: [{ columns: ['email'], unique: true, name: 'users_email_unique' }],
});

/** Token signing keys. The private half never leaves this service. */
export const SigningKeyTable = table('signing_keys', {
  key: 'kid',
  schema: z.object({
    kid: z.string(),
    alg: z.string(),
    privateJwk: z.string(),
    publicJwk: z.string(),
    createdAt: z.string(),
  }),
});
