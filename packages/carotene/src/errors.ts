/**
 * The one catalog of Carotene error codes. Anything thrown inside Carotene, or by a
 * handler, is converted into a `CaroteneError` at a boundary, so callers and HTTP clients
 * always see a stable `code`, an HTTP status, and a message that says what was wrong.
 *
 * ```ts
 * try { await store.users.insert(row) }
 * catch (err) { if (isCaroteneError(err, 'CONFLICT')) ... }
 * ```
 *
 * (A provider's declared errors are narrowed by its contract with `isRejection`.)
 */
export const ERROR_CATALOG = {
  /** Input did not match the function's schema. */
  INVALID_INPUT: 400,
  /** The request body was not valid JSON, or not an object where one was needed. */
  MALFORMED_REQUEST: 400,
  /** No valid credentials were presented. */
  UNAUTHENTICATED: 401,
  /** Credentials were valid but lack a required role, or the caller is not allowed. */
  FORBIDDEN: 403,
  /**
   * A handler, subscriber or saga reached a table, integration, event or saga it did not
   * declare: a bug of the service, not of its caller. The service logs it at error level and
   * answers INTERNAL, so a public client sees a 500 that names nothing inside.
   */
  PERMISSION_DENIED: 500,
  /** An internal caller (identified by its certificate) that the declared graph does not allow. */
  CALLER_NOT_ALLOWED: 403,
  /** The request URL is longer than the gateway accepts. */
  URI_TOO_LONG: 414,
  /** The request headers are larger than the gateway accepts. */
  HEADERS_TOO_LARGE: 431,
  /** The client sent its request too slowly. */
  REQUEST_TIMEOUT: 408,
  /**
   * The client closed its connection before its request arrived in full, so there is no one
   * to answer; 499 as nginx logs it. Its own doing, not a failure of the server.
   */
  CLIENT_DISCONNECTED: 499,
  /** The client used up its request budget on a route; retry after the `Retry-After` seconds. */
  RATE_LIMITED: 429,
  /** No such public route. */
  ROUTE_NOT_FOUND: 404,
  /** The callee has no function of that name. */
  UNKNOWN_FUNCTION: 404,
  /** Body larger than the limit. */
  PAYLOAD_TOO_LARGE: 413,
  /** A body in a format the endpoint does not read (e.g. OTLP protobuf where JSON is expected). */
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** A write broke a uniqueness rule of the store (e.g. a second row with the same key). */
  CONFLICT: 409,
  /** A handler produced output that does not match its contract. */
  INVALID_OUTPUT: 500,
  /** A handler tried to store a row that does not match its table's schema. */
  INVALID_ROW: 500,
  /** A failure that is not a declared domain error; details stay in the callee's log. */
  INTERNAL: 500,
  /** The callee could not be reached (refused, reset, not registered). */
  UNAVAILABLE: 503,
  /** The call's deadline passed before an answer came. */
  DEADLINE_EXCEEDED: 504,
  /**
   * An outside HTTP API (`http(...)`) answered with what cannot be used: a body over the
   * integration's `maxResponseBytes`, or not the JSON that `json()` asked for (`details.reason`).
   */
  UPSTREAM_ERROR: 502,
  /** A test called an integration that its harness did not mock. */
  NOT_MOCKED: 500,
  /** The app or service configuration is invalid. */
  INVALID_CONFIG: 500,
  /** A handler published an event whose payload does not match the event's schema. */
  INVALID_EVENT: 500,
  /** `ctx.publish` was called outside `ctx.transaction`, where it cannot commit with the handler's writes. */
  NO_TRANSACTION: 500,
  /** A saga step failed for good (`ctx.fail`): the saga compensates the steps before it. */
  SAGA_STEP_FAILED: 422,
  /** A handler asked for a saga instance that does not exist. */
  SAGA_NOT_FOUND: 404,
  /** A service's migrated database does not have the tables, columns or indexes it declares; it refuses to start. */
  SCHEMA_MISMATCH: 500,
  /** A change to declared tables that a generated migration cannot make without risk to data; write that step by hand. */
  UNSAFE_SCHEMA_CHANGE: 500,
} as const;

export type CarotenePlatformCode = keyof typeof ERROR_CATALOG;

export interface CaroteneErrorJSON {
  code: string;
  message: string;
  service?: string;
  domain?: boolean;
  details?: unknown;
}

/**
 * An error with a stable code. `domain` marks errors declared in a contract
 * (`errors: { OUT_OF_STOCK: 409 }`); the others come from {@link ERROR_CATALOG}.
 */
export class CaroteneError<Code extends string = string> extends Error {
  override readonly name = 'CaroteneError';
  readonly code: Code;
  readonly status: number;
  readonly domain: boolean;
  /** The service that raised the error, when known. */
  readonly service: string | undefined;
  readonly details: unknown;

  constructor(code: Code, message: string, options: { status?: number; domain?: boolean; service?: string; details?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.domain = options.domain ?? false;
    this.status = options.status ?? (ERROR_CATALOG as Record<string, number>)[code] ?? 500;
    this.service = options.service;
    this.details = options.details;
  }

  toJSON(): CaroteneErrorJSON {
    const json: CaroteneErrorJSON = { code: this.code, message: this.message };
    if (this.service !== undefined) json.service = this.service;
    if (this.domain) json.domain = true;
    if (this.details !== undefined) json.details = this.details;
    return json;
  }
}

/** Builds a platform error from the catalog. */
export function platformError(
  code: CarotenePlatformCode,
  message: string,
  options: { service?: string; details?: unknown; cause?: unknown } = {},
): CaroteneError<CarotenePlatformCode> {
  return new CaroteneError(code, message, options);
}

/** Which permission a PERMISSION_DENIED error says is missing, and for whom. */
export interface MissingPermission {
  /** `service.handler`, `service.saga(name)` or `service.on(type)`. */
  readonly owner: string;
  /** The list to add it to; `stores` when it is not the service's at all. */
  readonly permission: 'reads' | 'updates' | 'calls' | 'publishes' | 'sagas' | 'stores';
  /** The table, integration, event or saga that was reached. */
  readonly name: string;
}

/** Builds the PERMISSION_DENIED error for code that reached what it did not declare. */
export function permissionDenied(missing: MissingPermission, message: string): CaroteneError<'PERMISSION_DENIED'> {
  return new CaroteneError('PERMISSION_DENIED', message, { details: missing });
}

/** The missing permission a PERMISSION_DENIED error carries; undefined for any other error. */
export function missingPermission(err: unknown): MissingPermission | undefined {
  if (!isCaroteneError(err, 'PERMISSION_DENIED')) return undefined;
  const d = err.details as Partial<MissingPermission> | undefined;
  return typeof d?.owner === 'string' && typeof d.permission === 'string' && typeof d.name === 'string' ? (d as MissingPermission) : undefined;
}

/** True when `err` is a CaroteneError, optionally with the given code. */
export function isCaroteneError<Code extends string>(err: unknown, code?: Code): err is CaroteneError<Code> {
  return err instanceof CaroteneError && (code === undefined || err.code === code);
}

/** Rebuilds an error received on the wire; anything unrecognisable becomes INTERNAL. */
export function errorFromWire(body: unknown, status: number, service: string): CaroteneError {
  const err = (body as { error?: Partial<CaroteneErrorJSON> } | null)?.error;
  if (err && typeof err.code === 'string' && typeof err.message === 'string') {
    return new CaroteneError(err.code, err.message, {
      status,
      domain: err.domain === true,
      service: err.service ?? service,
      details: err.details,
    });
  }
  return platformError('INTERNAL', `${service} answered HTTP ${status} without a Carotene error body`, { service });
}
