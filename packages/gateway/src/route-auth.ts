import type { AppDef } from 'carotene/model';
import type { AuthClaims } from 'carotene/model';
import type { PublicRoute } from 'carotene/model';
import { platformError } from 'carotene/model';
import type { TokenVerifier } from './jwt.ts';

const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i;

/**
 * Refuses an app whose routes ask for tokens that the gateway has no keys to check.
 *
 * ```ts
 * assertAuthConfigured(app); // throws INVALID_CONFIG naming the first such route
 * ```
 */
export function assertAuthConfigured(app: AppDef): void {
  if (app.gateway.auth) return;
  for (const service of app.services) {
    for (const route of service.routes) {
      if (route.auth === 'none') continue;
      throw platformError(
        'INVALID_CONFIG',
        `app '${app.name}': route '${route.method} ${route.path}' (${route.service}.${route.function}) needs auth '${route.auth}', ` +
          `but the app has no gateway.auth; add gateway: { auth: { jwks: { service, function }, issuer, audience } }`,
        { service: 'gateway' },
      );
    }
  }
}

/**
 * Applies a route's auth policy to a request: `none` reads no token, `optional` passes a
 * valid one on and tolerates none, `required` (or any roles) needs a valid token carrying
 * every listed role. Rejects with UNAUTHENTICATED (401) or FORBIDDEN (403).
 *
 * ```ts
 * const auth = await authenticate(route, req.headers.authorization, verifier, requestId);
 * ```
 */
export async function authenticate(
  route: PublicRoute,
  authorization: string | undefined,
  verifier: TokenVerifier | undefined,
  requestId: string,
): Promise<AuthClaims | undefined> {
  if (route.auth === 'none') return undefined;
  if (authorization === undefined || authorization === '') {
    if (route.auth === 'optional') return undefined;
    throw unauthenticated("Missing bearer token: send 'Authorization: Bearer <token>'");
  }
  const token = BEARER.exec(authorization)?.[1];
  if (token === undefined) throw unauthenticated("Authorization header must be 'Bearer <token>'");
  // assertAuthConfigured guarantees a verifier for every route that reaches here
  if (!verifier) throw platformError('INTERNAL', 'Gateway has no token verifier', { service: 'gateway' });
  const claims = await verifier.verify(token, requestId);
  const missing = route.roles.filter((role) => !claims.roles.includes(role));
  if (missing.length > 0) {
    const list = missing.map((r) => `'${r}'`).join(', ');
    throw platformError('FORBIDDEN', `This route requires role${missing.length > 1 ? 's' : ''} ${list}, which the token does not carry`, {
      service: 'gateway',
    });
  }
  return claims;
}

function unauthenticated(message: string) {
  return platformError('UNAUTHENTICATED', message, { service: 'gateway' });
}
