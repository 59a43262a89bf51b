import { platformError } from '../errors.ts';
import { parseEnvironments, type EnvironmentsInput } from './environments.ts';
import type { ExternalDef } from './external.ts';
import type { ServiceDef } from './service.ts';

/** A member of an app: a service implemented with `implement`, or one in another language (`external`). */
export type AppService = ServiceDef | ExternalDef;

/** Where the gateway gets the keys that verify end-user tokens. */
export interface GatewayAuth {
  /** The internal function that returns the JSON Web Key Set (`{ keys: [...] }`). */
  readonly jwks: { readonly service: string; readonly function: string };
  readonly issuer: string;
  readonly audience: string;
  /** Cached keys are fetched again after this long (default 5 minutes). */
  readonly keysTtlMs?: number;
  /**
   * A token naming a key the cache does not hold (a rotated-in key) makes the gateway fetch
   * the keys again, at most this often (default 30 000 ms).
   */
  readonly unknownKeyCooldownMs?: number;
  /**
   * Tokens must carry `exp` (default true). `false` accepts tokens that never expire, each
   * then trusted until the key set is next fetched; say so only for an issuer that signs none.
   */
  readonly requireExpiry?: boolean;
  /** How far the issuer's clock may be off, for `exp`, `nbf` and `iat` (default 5 s). */
  readonly clockSkewSeconds?: number;
  /**
   * `typ` header values accepted when a token has one (default `JWT` and `at+jwt`, RFC 9068;
   * compared without case and without an `application/` prefix). A token without `typ` passes.
   */
  readonly tokenTypes?: readonly string[];
}

/** A token bucket: `capacity` requests in a burst, then `refillPerSecond` a second. */
export interface RateLimitRule {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/**
 * Rate limits of public routes, per route and per client (the token's user, else the IP).
 *
 * ```ts
 * rateLimit: { default: { capacity: 100, refillPerSecond: 10 },
 *              routes: { 'POST /api/users/login': { capacity: 5, refillPerSecond: 0.1 } },
 *              redis: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' } }
 * ```
 */
export interface RateLimitOptions {
  /** The rule of every route without its own (default 100 in a burst, 10 a second); `'off'` limits only the routes listed. */
  readonly default?: RateLimitRule | 'off';
  /** Rules by `'<METHOD> <path>'` as declared on the handler; `'off'` exempts a route. */
  readonly routes?: Readonly<Record<string, RateLimitRule | 'off'>>;
  /** Share the buckets between gateway replicas through Redis; in gateway memory otherwise. */
  readonly redis?: { readonly url: string; readonly prefix?: string };
}

/** Which browser origins may call the public API. */
export interface CorsOptions {
  /** Allowed origins (`https://shop.example`), or `'*'` for any (then without credentials). */
  readonly origins: readonly string[] | '*';
  /** Allow cookies and the Authorization header to be sent by the browser (default false). */
  readonly credentials?: boolean;
  /** Request headers a browser may send (default authorization, content-type, x-request-id). */
  readonly headers?: readonly string[];
  /** How long a browser may cache a preflight answer, in seconds (default 600). */
  readonly maxAgeSeconds?: number;
}

/** Limits that protect the gateway from oversized and slow clients. */
export interface GatewayLimits {
  /** Longest request URL, path and query, in bytes (default 8 192): longer is 414. */
  readonly maxUrlLength?: number;
  /** Largest request header block in bytes (default 16 384): larger is 431. */
  readonly maxHeaderBytes?: number;
  /** Time a client has to send its headers, in milliseconds (default 10 000): slower is 408. */
  readonly headersTimeoutMs?: number;
  /** Time a client has to send its whole request, in milliseconds (default 30 000): slower is 408. */
  readonly requestTimeoutMs?: number;
}

export interface GatewayOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 8080. */
  readonly port?: number;
  /** Largest accepted request body in bytes (default 1 MiB). */
  readonly bodyLimit?: number;
  /** Deadline of one public request in milliseconds (default 10 000). */
  readonly timeoutMs?: number;
  readonly auth?: GatewayAuth;
  /** Token-bucket rate limits per route and client; without it, requests are not limited. */
  readonly rateLimit?: RateLimitOptions;
  /** Cross-origin access for browsers; without it, no CORS headers are sent. */
  readonly cors?: CorsOptions;
  readonly limits?: GatewayLimits;
}

/** A whole application: its services, its gateway and their configuration. */
export interface AppDef {
  readonly kind: 'app';
  readonly name: string;
  /** In the app's order; narrow on `kind` (`'service'` or `'external'`). */
  readonly services: readonly AppService[];
  readonly gateway: GatewayOptions;
  /** Configuration per service, validated against each service's `config` schema at start. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Deployment settings per environment (`carrot build --env <name>`); defaults fill the rest. */
  readonly environments?: EnvironmentsInput;
}

/** The app's services implemented with `implement`, in its order. */
export function implementedServices(app: Pick<AppDef, 'services'>): ServiceDef[] {
  return app.services.filter((s): s is ServiceDef => s.kind === 'service');
}

/**
 * The service `name` of the app, implemented with `implement`: a process that runs it
 * (service host, migrations) gets INVALID_CONFIG for an unknown name or an external one.
 */
export function implementedService(app: AppDef, name: string): ServiceDef {
  const def = app.services.find((s) => s.name === name);
  if (!def) throw platformError('INVALID_CONFIG', `app '${app.name}' has no service '${name}' (it has: ${app.services.map((s) => s.name).join(', ')})`);
  if (def.kind === 'external') {
    throw platformError(
      'INVALID_CONFIG',
      `'${name}' of app '${app.name}' is an external service: it runs its own command (dev.command) or image, not Carotene's runtime`,
    );
  }
  return def;
}

/** The app's services implemented outside TypeScript (`external`), in its order. */
export function externalServices(app: Pick<AppDef, 'services'>): ExternalDef[] {
  return app.services.filter((s): s is ExternalDef => s.kind === 'external');
}

/**
 * Declares the application: the composition root that `carrot dev` and the gateway load.
 *
 * ```ts
 * export default app({ name: 'shop', services: [users, catalog], gateway: { port: 8080 } });
 * ```
 */
export function app(def: {
  name: string;
  services: readonly AppService[];
  gateway?: GatewayOptions;
  config?: Readonly<Record<string, unknown>>;
  environments?: EnvironmentsInput;
}): AppDef {
  const where = `app '${def.name}'`;
  const names = new Set<string>();
  if (!Array.isArray(def.services)) throw new TypeError(`${where}: services must be a list`);
  for (const s of def.services) {
    if (s?.kind !== 'service' && s?.kind !== 'external') {
      throw new TypeError(
        `${where}: services must be declared with implement(...) or external(...), got ${s === null || typeof s !== 'object' ? String(s) : `a ${String((s as { kind?: unknown }).kind ?? typeof s)}`}`,
      );
    }
    if (s.name === 'gateway') throw new TypeError(`${where}: 'gateway' is reserved for the gateway`);
    if (s.name === 'carrot') throw new TypeError(`${where}: 'carrot' is reserved for the identity of 'carrot dev' itself`);
    if (names.has(s.name)) throw new TypeError(`${where}: service '${s.name}' is listed twice`);
    names.add(s.name);
  }
  const routes = new Map<string, string>();
  for (const s of def.services) {
    for (const dep of s.integrations) {
      if (!names.has(dep.name)) throw new TypeError(`${where}: service '${s.name}' depends on '${dep.name}', which is not part of the app`);
    }
    for (const r of s.routes) {
      const id = `${r.method} ${r.path.replace(/:[^/]+/g, ':')}`;
      const other = routes.get(id);
      if (other) throw new TypeError(`${where}: route '${r.method} ${r.path}' is declared by both ${other} and ${s.name}.${r.function}`);
      routes.set(id, `${s.name}.${r.function}`);
    }
  }
  for (const key of Object.keys(def.config ?? {})) {
    if (def.services.some((s) => s.kind === 'external' && s.name === key)) {
      throw new TypeError(`${where}: config names '${key}', an external service: it is configured by its dev.env and its image`);
    }
    if (!names.has(key)) throw new TypeError(`${where}: config names '${key}', which is not a service of the app`);
  }
  const auth = def.gateway?.auth;
  if (auth && def.services.some((s) => s.kind === 'external' && s.name === auth.jwks.service)) {
    throw new TypeError(`${where}: gateway auth reads keys from '${auth.jwks.service}', an external service; the key set must come from a Carotene service`);
  }
  if (auth && !names.has(auth.jwks.service)) {
    throw new TypeError(`${where}: gateway auth reads keys from '${auth.jwks.service}', which is not a service of the app`);
  }
  const environments = parseEnvironments(def.environments, where);
  for (const [env, settings] of Object.entries(environments)) {
    for (const key of Object.keys(settings?.services ?? {})) {
      if (!names.has(key)) throw new TypeError(`${where}: environments.${env}.services names '${key}', which is not a service of the app`);
    }
  }
  return { kind: 'app', name: def.name, services: def.services, gateway: def.gateway ?? {}, config: def.config ?? {}, environments };
}
