import { platformError } from 'carotene/model';

/**
 * The RPC input of a public request: query string values, then the JSON body, then the path
 * parameters, each overriding the one before. Path parameters win because they name the
 * resource the route is about; a body cannot redirect the call to another one.
 *
 * ```ts
 * routeInput({ limit: '5' }, { qty: 2 }, { id: 'p1' }) // { limit: '5', qty: 2, id: 'p1' }
 * ```
 */
export function routeInput(query: unknown, body: unknown, params: unknown): Record<string, unknown> {
  if (body !== undefined && !isPlainObject(body)) {
    throw platformError('MALFORMED_REQUEST', `Request body must be a JSON object, got ${describe(body)}`, { service: 'gateway' });
  }
  return { ...asRecord(query), ...body, ...asRecord(params) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asRecord(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
