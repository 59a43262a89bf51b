import { readFileSync } from 'node:fs';
import { connect, constants } from 'node:http2';
import type { TlsFiles } from '@carotene/runtime/security';

/** `grpc.health.v1.HealthCheckResponse.ServingStatus`, by number. */
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
export type ServingStatus = (typeof SERVING_STATUS)[number];

/** What one health check found: the serving status, or why there was none (`ECONNREFUSED`, `gRPC status 12 …`). */
export type HealthAnswer = { readonly status: ServingStatus } | { readonly error: string };

export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';

/**
 * One `grpc.health.v1.Health/Check` (the gRPC health checking protocol) of the server at
 * `url` (`https://127.0.0.1:4105`), over mutual TLS with the client certificate `tls` names
 * (read on every call, so rotated files are picked up). `service` is the name asked about;
 * `''` (the default) asks about the server as a whole. Never rejects.
 *
 * The messages are encoded by hand: a request is field 1 (`service`, a string), an answer
 * field 1 (`status`, an enum), framed as gRPC frames (1 byte compressed flag, 4 bytes length).
 *
 * ```ts
 * await grpcHealthCheck('https://127.0.0.1:4105', tlsFiles(dataDir, 'carrot')); // { status: 'SERVING' }
 * ```
 */
export function grpcHealthCheck(url: string, tls: TlsFiles, timeoutMs = 1_000, service = ''): Promise<HealthAnswer> {
  return new Promise((resolve) => {
    let credentials: { ca: string; cert: string; key: string };
    try {
      credentials = { ca: readFileSync(tls.ca, 'utf8'), cert: readFileSync(tls.cert, 'utf8'), key: readFileSync(tls.key, 'utf8') };
    } catch (err) {
      return resolve({ error: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
    }
    let settled = false;
    const session = connect(url, {
      ...credentials,
      minVersion: 'TLSv1.3',
      // found by port on loopback, like the readiness probe of a Carotene service
      checkServerIdentity: () => undefined,
    });
    const done = (answer: HealthAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done({ error: 'timeout' }), timeoutMs);
    session.on('error', (err: NodeJS.ErrnoException) => done({ error: err.code ?? err.message }));
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: HEALTH_CHECK_PATH,
      [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      te: 'trailers',
      'grpc-timeout': `${Math.max(1, Math.ceil(timeoutMs))}m`,
    });
    const chunks: Buffer[] = [];
    let headerStatus: string | undefined;
    stream.on('response', (headers) => {
      const http = Number(headers[constants.HTTP2_HEADER_STATUS]);
      if (http !== 200) return done({ error: `HTTP ${String(http)}` });
      // a trailers-only answer (an error) carries grpc-status in the headers
      headerStatus = headers['grpc-status'] as string | undefined;
      if (headerStatus !== undefined && headerStatus !== '0') done({ error: grpcError(headerStatus, headers['grpc-message']) });
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    let trailerStatus: string | undefined;
    stream.on('trailers', (trailers) => {
      trailerStatus = trailers['grpc-status'] as string | undefined;
      if (trailerStatus !== undefined && trailerStatus !== '0') done({ error: grpcError(trailerStatus, trailers['grpc-message']) });
    });
    // a stream cancelled because its connection failed says why through its cause
    stream.on('error', (err: NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException }) => done({ error: err.cause?.code ?? err.code ?? err.message }));
    stream.on('end', () => {
      if ((trailerStatus ?? headerStatus) !== '0') return done({ error: 'the answer carried no grpc-status' });
      done(decodeResponse(Buffer.concat(chunks)));
    });
    stream.end(encodeRequest(service));
  });
}

/** A HealthCheckRequest in one uncompressed gRPC frame. */
export function encodeRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const message = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]);
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(message.length, 1);
  return Buffer.concat([frame, message]);
}

/** The status of a HealthCheckResponse in one gRPC frame (fields other than `status` skipped). */
export function decodeResponse(body: Buffer): HealthAnswer {
  if (body.length < 5) return { error: 'the answer had no message' };
  if (body[0] !== 0) return { error: 'the answer was compressed, which this check does not ask for' };
  const length = body.readUInt32BE(1);
  const message = body.subarray(5, 5 + length);
  if (message.length !== length) return { error: 'the answer was cut short' };
  let status = 0;
  let at = 0;
  while (at < message.length) {
    const [key, next] = readVarint(message, at);
    at = next;
    const field = key >> 3;
    const wire = key & 7;
    if (wire === 0) {
      const [value, after] = readVarint(message, at);
      at = after;
      if (field === 1) status = value;
    } else if (wire === 2) {
      const [len, after] = readVarint(message, at);
      at = after + len;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else return { error: `the answer is not a HealthCheckResponse (wire type ${wire})` };
  }
  return { status: SERVING_STATUS[status] ?? 'UNKNOWN' };
}

/** Describes an answer for a human: `SERVING`, `NOT_SERVING`, `ECONNREFUSED`. */
export function describeHealth(answer: HealthAnswer | undefined): string {
  if (answer === undefined) return 'no answer yet';
  return 'status' in answer ? answer.status : answer.error;
}

const GRPC_CODES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

function grpcError(status: string, message: unknown): string {
  const name = GRPC_CODES[Number(status)] ?? `status ${status}`;
  const text = typeof message === 'string' && message !== '' ? `: ${decodeURIComponent(message)}` : '';
  const hint = name === 'UNIMPLEMENTED' ? ' (the server does not serve grpc.health.v1.Health)' : '';
  return `gRPC ${name}${text}${hint}`;
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

function readVarint(buf: Buffer, start: number): [number, number] {
  let value = 0;
  let shift = 0;
  let at = start;
  for (;;) {
    if (at >= buf.length) return [value, buf.length + 1];
    const byte = buf[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, at];
    shift += 7;
  }
}
