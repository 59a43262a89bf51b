/**
 * Service identities in certificates: a URI in the subject alternative name,
 * `spiffe://<app>/<service>`. The gateway is `gateway`; `carrot dev` itself probes
 * readiness as `carrot`.
 *
 * ```ts
 * spiffeId('shop', 'orders');                                  // 'spiffe://shop/orders'
 * identityFromSan('URI:spiffe://shop/orders', 'shop');         // 'orders'
 * ```
 */
export function spiffeId(app: string, identity: string): string {
  return `spiffe://${app}/${identity}`;
}

/** Identity of the process that runs `carrot dev` and probes every service's readiness. */
export const SUPERVISOR_IDENTITY = 'carrot';

/** Identity of the gateway process. */
export const GATEWAY_IDENTITY = 'gateway';

/**
 * The service name in a certificate's `subjectaltname` (as node's `getPeerCertificate()`
 * prints it), when it names exactly one identity of `app`; undefined otherwise.
 */
export function identityFromSan(subjectaltname: string | undefined, app: string): string | undefined {
  if (!subjectaltname) return undefined;
  const prefix = `spiffe://${app}/`;
  const uris = subjectaltname
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('URI:'))
    .map((part) => part.slice(4));
  // a certificate naming two identities is ambiguous: it names none
  if (uris.length !== 1) return undefined;
  const uri = uris[0]!;
  if (!uri.startsWith(prefix)) return undefined;
  const name = uri.slice(prefix.length);
  return /^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name) ? name : undefined;
}
