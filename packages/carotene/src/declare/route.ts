import type { HttpMethod } from './handler.ts';

/** A public route, parsed from `'POST /api/orders/:id/checkout'`. */
export interface Route {
  readonly method: HttpMethod;
  readonly path: string;
  /** Names of the `:params` in the path, in order. */
  readonly params: readonly string[];
}

const METHODS: readonly string[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const SEGMENT = /^(?::[A-Za-z_][A-Za-z0-9_]*|[A-Za-z0-9._~-]+)$/;

export function parseRoute(spec: string, where: string): Route {
  const match = /^([A-Z]+) (\/\S*)$/.exec(spec);
  if (!match || !METHODS.includes(match[1]!)) {
    throw new TypeError(`${where}: route '${spec}' must look like 'GET /api/things/:id' (methods: ${METHODS.join(', ')})`);
  }
  const path = match[2]!;
  const params: string[] = [];
  for (const segment of path.split('/').slice(1)) {
    if (!SEGMENT.test(segment)) throw new TypeError(`${where}: route '${spec}' has an invalid segment '${segment}'`);
    if (segment.startsWith(':')) params.push(segment.slice(1));
  }
  return { method: match[1] as HttpMethod, path, params };
}
