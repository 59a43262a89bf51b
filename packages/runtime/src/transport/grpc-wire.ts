import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { gunzipSync } from 'node:zlib';
import { Code, ConnectError } from '@connectrpc/connect';
import { findTrailerError, setTrailerStatus } from '@connectrpc/connect/protocol-grpc';

/**
 * gRPC over HTTP/2 as both ends of Carotene write it on node:http2 streams (the protocol's
 * own spec, "gRPC over HTTP2"): each message is a length-prefixed frame (a compressed flag
 * and a 4-byte length), the status travels in trailers (or alone in the headers of a
 * "Trailers-Only" answer), and its details are a base64 `google.rpc.Status`, which Connect's
 * protocol helpers read and write so the bytes are exactly what Connect and grpc-js send.
 */

/** The content types of gRPC proper (protobuf); gRPC-Web, `+json` and Connect go through Connect's handler. */
const GRPC_PROTO = /^application\/grpc(?:\+proto)?(?:;|$)/i;

export function isGrpcProto(contentType: string | undefined): boolean {
  return contentType !== undefined && GRPC_PROTO.test(contentType);
}

export const GRPC_CONTENT_TYPE = 'application/grpc';

/** Encodings a Carotene server reads: identity, and gzip (what grpc-js and Python's grpcio offer). */
export const ACCEPT_ENCODING = 'identity,gzip';

/** One message as a gRPC length-prefixed frame, uncompressed. */
export function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/**
 * The one message of a unary body: exactly one frame, decompressed when its flag says so.
 * A compressed message may grow to `limit` bytes, no further (a small gzip can hold gigabytes).
 * Throws a ConnectError that says what was wrong (the status a client gets).
 */
export function unframe(body: Buffer, encoding: string | undefined, limit = Number.MAX_SAFE_INTEGER): Uint8Array {
  if (body.length < 5) throw new ConnectError(`a gRPC message needs a 5-byte prefix; the body has ${body.length} bytes`, Code.InvalidArgument);
  const flag = body[0]!;
  const length = body.readUInt32BE(1);
  if (flag > 1) throw new ConnectError(`a gRPC message's flag is 0 or 1, not ${flag}`, Code.InvalidArgument);
  if (body.length !== 5 + length)
    throw new ConnectError(
      body.length < 5 + length ? `the gRPC message is cut short: ${body.length - 5} of ${length} bytes` : 'a unary call carries one message, the body has more',
      Code.InvalidArgument,
    );
  const message = body.subarray(5);
  if (flag === 0) return message;
  if (encoding !== 'gzip') throw new ConnectError(`the message is compressed, but its encoding is ${encoding ?? 'identity'}`, Code.Internal);
  try {
    return gunzipSync(message, { maxOutputLength: limit });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new ConnectError(`the message is over the limit of ${limit} bytes once decompressed`, Code.ResourceExhausted);
    throw new ConnectError(`the gzip message does not decompress: ${(err as Error).message}`, Code.InvalidArgument);
  }
}

/** A status as the HTTP/2 headers that carry it: `grpc-status`, `grpc-message`, `grpc-status-details-bin`. */
export function statusHeaders(error: ConnectError | undefined): OutgoingHttpHeaders {
  const trailer = new Headers();
  setTrailerStatus(trailer, error);
  const out: OutgoingHttpHeaders = {};
  trailer.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

/** The status in headers or trailers a gRPC server sent: undefined when there is none, else OK (null) or its error. */
export function statusOf(headers: IncomingHttpHeaders): ConnectError | null | undefined {
  const status = headers['grpc-status'];
  if (status === undefined) return undefined;
  const converted = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    converted.set(name, Array.isArray(value) ? value.join(', ') : String(value));
  }
  return findTrailerError(converted) ?? null;
}

/** A header of a gRPC request, the first when it was sent twice. */
export function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
