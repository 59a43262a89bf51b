import { randomUUID } from 'node:crypto';

/** What an incoming `x-request-id` may look like to be trusted (it ends up in logs and headers). */
const ACCEPTED = /^[A-Za-z0-9._:-]{1,128}$/;

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * The id of one public request: the caller's `x-request-id` when it is safe to echo,
 * otherwise a fresh UUID.
 *
 * ```ts
 * requestIdFrom(req.headers['x-request-id']) // 'abc-123' or a new UUID
 * ```
 */
export function requestIdFrom(header: string | string[] | undefined): string {
  // a repeated header is ambiguous, so it is ignored rather than picking one
  return typeof header === 'string' && ACCEPTED.test(header) ? header : randomUUID();
}
