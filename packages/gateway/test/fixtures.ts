// A small app and a recording transport shared by the gateway tests.
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import { app, contract, handler, implement, rpc, type AppDef, type GatewayOptions } from '../../carotene/src/index.ts';
import { platformError } from '../../carotene/src/errors.ts';
import type { CallMeta, Transport } from '../../runtime/src/transport/transport.ts';

export const ISSUER = 'https://auth.test-shop.example';
export const AUDIENCE = 'test-shop-api';

export const Things = contract('things', {
  getThing: rpc({ input: z.object({ id: z.string() }), output: z.object({ id: z.string(), name: z.string() }) }),
  listThings: rpc({ input: z.object({ limit: z.string().optional() }), output: z.array(z.object({ id: z.string() })) }),
  createThing: rpc({
    input: z.object({ id: z.string(), name: z.string() }),
    output: z.object({ id: z.string() }),
    errors: { ALREADY_EXISTS: 409 },
  }),
  deleteThing: rpc({ input: z.object({ id: z.string() }), output: z.void() }),
  greet: rpc({ input: z.object({}), output: z.string() }),
});

export const Users = contract('users', {
  jwks: rpc({ input: z.object({}), output: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }) }),
});

// The handler bodies never run here: the fake transport answers instead.
export const things = implement(Things).handlers({
  getThing: handler({ route: 'GET /api/things/:id', roles: ['admin'] }, async ({ id }) => ({ id, name: 'thing' })),
  listThings: handler({ route: 'GET /api/things' }, async () => []),
  createThing: handler({ route: 'POST /api/things/:id', status: 201 }, async ({ id }) => ({ id })),
  deleteThing: handler({ route: 'DELETE /api/things/:id', status: 204 }, async () => undefined),
  greet: handler({ route: 'GET /api/greeting', auth: 'optional' }, async (_input, ctx) => `hello ${ctx.auth?.sub ?? 'stranger'}`),
});

export const users = implement(Users).handlers({
  jwks: handler({}, async () => ({ keys: [] })),
});

export const authOptions = { jwks: { service: 'users', function: 'jwks' }, issuer: ISSUER, audience: AUDIENCE } as const;

export function testApp(gateway: GatewayOptions = {}): AppDef {
  return app({ name: 'test-shop', services: [things, users], gateway: { auth: authOptions, ...gateway } });
}

export interface RecordedCall {
  readonly service: string;
  readonly fn: string;
  readonly input: unknown;
  readonly meta: CallMeta;
}

type Answer = (input: unknown, meta: CallMeta) => unknown;

/** Records every call and answers from `answers['service.fn']`. */
export class FakeTransport implements Transport {
  readonly calls: RecordedCall[] = [];
  readonly answers: Record<string, Answer> = {};
  closed = false;

  constructor(answers: Record<string, Answer> = {}) {
    Object.assign(this.answers, answers);
  }

  async call(service: string, fn: string, input: unknown, meta: CallMeta): Promise<unknown> {
    this.calls.push({ service, fn, input, meta });
    const answer = this.answers[`${service}.${fn}`];
    if (!answer) throw platformError('UNKNOWN_FUNCTION', `no fake answer for ${service}.${fn}`, { service });
    return answer(input, meta);
  }

  /** Calls other than key fetches. */
  routed(): RecordedCall[] {
    return this.calls.filter((c) => c.fn !== 'jwks');
  }

  keyFetches(): number {
    return this.calls.filter((c) => c.fn === 'jwks').length;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A pino logger whose lines land in `lines`, parsed. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

export interface SigningKey {
  readonly kid: string;
  readonly alg: 'ES256' | 'EdDSA' | 'RS256';
  readonly privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  readonly jwk: JWK;
}

export async function signingKey(kid: string, alg: SigningKey['alg'] = 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, jwk };
}

/** Signs a token valid for an hour from `nowMs` unless `claims` says otherwise. */
export async function signToken(key: SigningKey, nowMs: number, claims: JWTPayload = {}, header: { kid?: string; typ?: string | null } = {}): Promise<string> {
  const seconds = Math.floor(nowMs / 1000);
  // a claim given as undefined is left out of the token
  const payload = Object.fromEntries(
    Object.entries({ sub: 'user_1', roles: ['admin'], iss: ISSUER, aud: AUDIENCE, iat: seconds, exp: seconds + 3600, ...claims }).filter(
      ([, v]) => v !== undefined,
    ),
  );
  const typ = header.typ === undefined ? 'JWT' : header.typ;
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: header.kid ?? key.kid, ...(typ === null ? {} : { typ }) }).sign(key.privateKey);
}
