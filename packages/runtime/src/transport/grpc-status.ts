import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { CaroteneError, platformError } from 'carotene/model';
import { ErrorInfoSchema, type ErrorInfo } from './grpc-descriptors.ts';

/**
 * Carotene error codes ⇄ gRPC status codes (the table in docs/grpc.md). A Carotene error
 * leaves as the gRPC status below, with a `google.rpc.ErrorInfo` in the status details:
 * `reason` = the Carotene code (the declared code of a domain error), `domain` = the service
 * that raised it, `metadata` = `{ status, declared }` (its HTTP status, and "true" for a
 * declared domain error), so any gRPC client can read the code, and a Carotene client rebuilds
 * the same typed error.
 */
const PLATFORM_TO_GRPC: Readonly<Record<string, Code>> = {
  INVALID_INPUT: Code.InvalidArgument,
  MALFORMED_REQUEST: Code.InvalidArgument,
  UNSUPPORTED_MEDIA_TYPE: Code.InvalidArgument,
  URI_TOO_LONG: Code.InvalidArgument,
  UNAUTHENTICATED: Code.Unauthenticated,
  FORBIDDEN: Code.PermissionDenied,
  CALLER_NOT_ALLOWED: Code.PermissionDenied,
  UNKNOWN_FUNCTION: Code.Unimplemented,
  ROUTE_NOT_FOUND: Code.NotFound,
  SAGA_NOT_FOUND: Code.NotFound,
  CONFLICT: Code.AlreadyExists,
  SAGA_STEP_FAILED: Code.FailedPrecondition,
  PAYLOAD_TOO_LARGE: Code.ResourceExhausted,
  HEADERS_TOO_LARGE: Code.ResourceExhausted,
  RATE_LIMITED: Code.ResourceExhausted,
  REQUEST_TIMEOUT: Code.DeadlineExceeded,
  DEADLINE_EXCEEDED: Code.DeadlineExceeded,
  CLIENT_DISCONNECTED: Code.Canceled,
  UNAVAILABLE: Code.Unavailable,
};

/** A declared domain error's status by the HTTP status its contract gives it. */
function grpcCodeOfStatus(status: number): Code {
  switch (status) {
    case 400:
      return Code.InvalidArgument;
    case 401:
      return Code.Unauthenticated;
    case 403:
      return Code.PermissionDenied;
    case 404:
    case 410:
      return Code.NotFound;
    case 409:
    case 412:
    case 422:
      return Code.FailedPrecondition;
    case 413:
    case 429:
      return Code.ResourceExhausted;
    case 499:
      return Code.Canceled;
    case 501:
      return Code.Unimplemented;
    case 503:
      return Code.Unavailable;
    case 504:
      return Code.DeadlineExceeded;
    default:
      return status >= 400 && status < 500 ? Code.FailedPrecondition : Code.Internal;
  }
}

/** The gRPC status code a Carotene error is sent as. */
export function grpcCode(err: CaroteneError): Code {
  if (!err.domain) {
    const code = PLATFORM_TO_GRPC[err.code];
    if (code !== undefined) return code;
  }
  return grpcCodeOfStatus(err.status);
}

/** A Carotene error as the ConnectError that Connect writes as `grpc-status`, `grpc-message` and `grpc-status-details-bin`. */
export function toConnectError(err: CaroteneError, service: string): ConnectError {
  const metadata: Record<string, string> = { status: String(err.status) };
  if (err.domain) metadata.declared = 'true';
  const info = create(ErrorInfoSchema, { reason: err.code, domain: err.service ?? service, metadata } as never);
  return new ConnectError(err.message, grpcCode(err), undefined, [{ desc: ErrorInfoSchema, value: info as never }]);
}

/**
 * For a callee whose status carries no ErrorInfo (a server not written with Carotene): the
 * platform code of each gRPC status; the others become domain errors named as the status
 * (`NOT_FOUND`, `ALREADY_EXISTS`, …), which a contract describing that callee may declare.
 */
const GRPC_TO_PLATFORM: Readonly<Partial<Record<Code, string>>> = {
  [Code.Canceled]: 'UNAVAILABLE',
  [Code.Unknown]: 'INTERNAL',
  [Code.InvalidArgument]: 'INVALID_INPUT',
  [Code.DeadlineExceeded]: 'DEADLINE_EXCEEDED',
  [Code.PermissionDenied]: 'FORBIDDEN',
  [Code.ResourceExhausted]: 'RATE_LIMITED',
  [Code.Unimplemented]: 'UNKNOWN_FUNCTION',
  [Code.Internal]: 'INTERNAL',
  [Code.Unavailable]: 'UNAVAILABLE',
  [Code.DataLoss]: 'INTERNAL',
  [Code.Unauthenticated]: 'UNAUTHENTICATED',
};

const DOMAIN_STATUS: Readonly<Partial<Record<Code, number>>> = {
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.FailedPrecondition]: 409,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
};

/** `NOT_FOUND` for Code.NotFound: the status's name as gRPC spells it. */
function statusName(code: Code): string {
  return (Code[code] ?? 'UNKNOWN').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

/**
 * A gRPC status as the same typed CaroteneError the frame protocol would give: from the
 * ErrorInfo detail when there is one (its reason is the code, its domain the service), else
 * from the status code (see {@link GRPC_TO_PLATFORM}).
 */
export function fromConnectError(err: ConnectError, service: string): CaroteneError {
  const info = err.findDetails(ErrorInfoSchema)[0] as ErrorInfo | undefined;
  const message = err.rawMessage || `${service} answered gRPC status ${statusName(err.code)}`;
  if (info && info.reason !== '') {
    const status = Number(info.metadata.status);
    const platform = PLATFORM_TO_GRPC[info.reason] !== undefined || info.reason === 'INTERNAL';
    // a server not written with Carotene that names a platform code: that code's own status (INVALID_INPUT is 400)
    if (platform && info.metadata.status === undefined) return platformError(info.reason as 'INTERNAL', message, { service: info.domain || service });
    return new CaroteneError(info.reason, message, {
      status: Number.isInteger(status) && status >= 400 && status < 600 ? status : (DOMAIN_STATUS[err.code] ?? 500),
      // from a Carotene callee: as it says; from another server: any reason that is not a platform code is its own
      domain: info.metadata.declared === 'true' || (info.metadata.status === undefined && !platform),
      service: info.domain || service,
    });
  }
  const platform = GRPC_TO_PLATFORM[err.code];
  if (platform) return platformError(platform as 'INTERNAL', message, { service });
  return new CaroteneError(statusName(err.code), message, { status: DOMAIN_STATUS[err.code] ?? 500, domain: true, service });
}
