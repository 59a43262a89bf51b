import type { AppDef } from 'carotene/model';
import type { AppService } from 'carotene/model';
import { CaroteneError } from 'carotene/model';

/** Identity the gateway calls with (its certificate names it). */
export const GATEWAY_CALLER = 'gateway';

/** Functions whose name starts with this are platform endpoints (event delivery), not contract functions. */
export const RESERVED_PREFIX = '$';

/**
 * Who may call `fn` of `callee`, derived only from the declared graph:
 * - a contract function: every service that lists `callee`'s contract in its integrations,
 *   plus the gateway when `fn` serves a public route or is the app's token-key function;
 * - a reserved `$…` function (event delivery): every service that publishes an event
 *   `callee` subscribes to, and nobody else.
 *
 * ```ts
 * allowedCallers(shop, 'catalog', 'reserveStock'); // Set { 'orders' }
 * allowedCallers(shop, 'users', 'jwks');           // Set { 'gateway' }
 * ```
 */
export function allowedCallers(app: AppDef, callee: string, fn: string): ReadonlySet<string> {
  const def = app.services.find((s) => s.name === callee);
  const allowed = new Set<string>();
  if (!def) return allowed;
  if (fn.startsWith(RESERVED_PREFIX)) {
    for (const publisher of eventPublishersOf(def)) allowed.add(publisher);
    return allowed;
  }
  for (const s of app.services) {
    if (s.integrations.some((c) => c.name === callee)) allowed.add(s.name);
  }
  const jwks = app.gateway.auth?.jwks;
  if (def.routes.some((r) => r.function === fn) || (jwks?.service === callee && jwks.function === fn)) allowed.add(GATEWAY_CALLER);
  return allowed;
}

/**
 * The services whose events `subscriber` declares in `subscribes`: they, and only they, may
 * deliver to its `$…` endpoints. Events name their publishing service (`event('orders', …)`).
 */
export function eventPublishersOf(subscriber: Pick<AppService, 'subscribes'>): ReadonlySet<string> {
  return new Set(subscriber.subscribes.map((e) => e.service));
}

/** Refuses a call the graph does not allow; see {@link allowedCallers}. */
export type CallerCheck = (caller: string, fn: string) => void;

/**
 * The check one service applies to every incoming call, over any transport (mutual TLS,
 * in-process): the caller's identity must be one the declared graph allows, else
 * CALLER_NOT_ALLOWED (403) naming caller and callee. Precomputed per function.
 */
export function callerCheck(app: AppDef, callee: string): CallerCheck {
  const cache = new Map<string, ReadonlySet<string>>();
  return (caller, fn) => {
    let allowed = cache.get(fn);
    if (!allowed) {
      allowed = allowedCallers(app, callee, fn);
      cache.set(fn, allowed);
    }
    if (allowed.has(caller)) return;
    const who = allowed.size === 0 ? 'no caller is' : `only ${[...allowed].sort().join(', ')} ${allowed.size === 1 ? 'is' : 'are'}`;
    const why = fn.startsWith(RESERVED_PREFIX)
      ? `publishers of events ${callee} subscribes to may deliver them`
      : caller === GATEWAY_CALLER
        ? 'the gateway reaches only functions that serve a public route'
        : `add ${callee}'s contract to ${caller}'s integrations to allow it`;
    throw new CaroteneError('CALLER_NOT_ALLOWED', `'${caller}' may not call ${callee}.${fn}: ${who} allowed (${why})`, {
      service: callee,
      details: { caller, callee, function: fn },
    });
  };
}
