import { permissionDenied } from './errors.ts';

/**
 * `ctx.call` (or `ctx.http`) as an object with exactly the declared clients: any other name is
 * refused with PERMISSION_DENIED naming `owner` and what to declare, so code that escapes the
 * types still cannot reach an undeclared service or outside API. Shared by handlers and saga steps.
 *
 * ```ts
 * const call = permittedCalls(clients, 'orders.checkout', "handler's");
 * ```
 */
export function permittedCalls(
  clients: ReadonlyMap<string, object>,
  owner: string,
  declarer: "handler's" | "saga's",
  what: 'contract' | 'http' = 'contract',
): object {
  return new Proxy(Object.create(null) as object, {
    get(_target, prop) {
      if (typeof prop !== 'string' || prop === 'then' || prop === 'toJSON') return undefined;
      const client = clients.get(prop);
      if (client) return client;
      throw permissionDenied(
        { owner, permission: 'calls', name: prop },
        what === 'contract'
          ? `${owner} may not call '${prop}': add its contract to the ${declarer} calls (and the service's integrations)`
          : `${owner} may not use the HTTP integration '${prop}': declare it with http('${prop}', { baseUrl }) and add it to the ${declarer} calls (and the service's integrations)`,
      );
    },
    has: (_target, prop) => typeof prop === 'string' && clients.has(prop),
    ownKeys: () => [...clients.keys()],
    getOwnPropertyDescriptor: (_target, prop) =>
      typeof prop === 'string' && clients.has(prop) ? { enumerable: true, configurable: true, value: clients.get(prop) } : undefined,
  });
}
