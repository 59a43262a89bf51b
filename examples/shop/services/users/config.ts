import { z } from 'zod';

/** The users service's configuration, from the app's `config.users`. */
export const UsersConfig = z.object({
  /** `iss` of every token; the gateway checks the same value. */
  issuer: z.string().min(1),
  /** `aud` of every token; the gateway checks the same value. */
  audience: z.string().min(1),
  tokenTtlSeconds: z
    .number()
    .int()
    .positive()
    .max(7 * 24 * 3600),
  /** The account created at first start, so that someone can manage the catalog. */
  admin: z.object({
    email: z.string().trim().toLowerCase().pipe(z.email()),
    password: z.string().min(8),
    name: z.string().min(1).max(100),
  }),
});

export type UsersConfig = z.output<typeof UsersConfig>;
