import type { Socket } from 'node:net';

/**
 * The frames of `carotene-rpc/1`, the internal call protocol negotiated by ALPN on a
 * service's TLS port. Every frame is `u32 length` (of what follows) `u8 type` `u32 call id`,
 * then by type:
 *
 * ```
 * CALL    u32 head length, head JSON ({ fn, timeout, requestId, auth?, idempotencyKey?, traceparent?, tracestate? }), body JSON (the input, or empty)
 * REPLY   u16 status, body JSON (as the HTTP answer's body: the output, empty for none, or { error })
 * PING    (nothing)       PONG (nothing)
 * GOAWAY  call id 0, optional JSON { code, message }: no new calls on this connection
 * REFUSED the call was not run (the server is shutting down); the caller may send it elsewhere
 * ```
 *
 * Integers are big-endian. Many calls share one connection; the call id pairs a REPLY with
 * its CALL, and replies come in any order.
 */
export const FRAME = { CALL: 1, REPLY: 2, PING: 3, PONG: 4, GOAWAY: 5, REFUSED: 6 } as const;

/** The ALPN name of the protocol; `http/1.1` connections on the same port get the HTTP server. */
export const RPC_ALPN = 'carotene-rpc/1';

/** Room for a call's head (metadata) beyond its body limit. */
export const HEAD_ALLOWANCE = 64 * 1024;

/** What a CALL carries besides the input: the same fields as the HTTP headers (wire.ts). */
export interface CallHead {
  readonly fn: string;
  /** Milliseconds left until the caller's deadline. */
  readonly timeout: number;
  readonly requestId: string;
  readonly auth?: unknown;
  readonly idempotencyKey?: string;
  readonly traceparent?: string;
  readonly tracestate?: string;
}

export function encodeCall(id: number, head: CallHead, body: string): Buffer {
  const headJson = JSON.stringify(head);
  const headLength = Buffer.byteLength(headJson);
  const frame = Buffer.allocUnsafe(13 + headLength + Buffer.byteLength(body));
  frame.writeUInt32BE(frame.length - 4, 0);
  frame[4] = FRAME.CALL;
  frame.writeUInt32BE(id, 5);
  frame.writeUInt32BE(headLength, 9);
  frame.write(headJson, 13, 'utf8');
  if (body.length > 0) frame.write(body, 13 + headLength, 'utf8');
  return frame;
}

export function encodeReply(id: number, status: number, body: string): Buffer {
  const frame = Buffer.allocUnsafe(11 + Buffer.byteLength(body));
  frame.writeUInt32BE(frame.length - 4, 0);
  frame[4] = FRAME.REPLY;
  frame.writeUInt32BE(id, 5);
  frame.writeUInt16BE(status, 9);
  if (body.length > 0) frame.write(body, 11, 'utf8');
  return frame;
}

/** A frame of one of the bodiless types, or GOAWAY/REFUSED with a JSON or text reason. */
export function encodeControl(type: number, id: number, body = ''): Buffer {
  const frame = Buffer.allocUnsafe(9 + Buffer.byteLength(body));
  frame.writeUInt32BE(frame.length - 4, 0);
  frame[4] = type;
  frame.writeUInt32BE(id, 5);
  if (body.length > 0) frame.write(body, 9, 'utf8');
  return frame;
}

/** One decoded frame: its type, call id and the bytes after them. */
export interface Frame {
  readonly type: number;
  readonly id: number;
  readonly payload: Buffer;
}

export interface FrameReaderEvents {
  frame(frame: Frame): void;
  /** A frame longer than the limit: its bytes are skipped, the connection goes on. */
  oversize(type: number, id: number, length: number): void;
  /** Bytes that cannot be a frame: the connection must be closed. */
  malformed(reason: string): void;
}

/**
 * Cuts a byte stream into frames. Chunks are kept as they come and joined once a whole frame
 * is there, so a large frame arriving in many chunks is copied once.
 */
export class FrameReader {
  readonly #max: number;
  readonly #on: FrameReaderEvents;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Bytes of an oversize frame still to discard. */
  #skip = 0;
  #failed = false;

  constructor(maxFrame: number, on: FrameReaderEvents) {
    this.#max = maxFrame;
    this.#on = on;
  }

  push(chunk: Buffer): void {
    if (this.#failed) return;
    if (this.#skip > 0) {
      const dropped = Math.min(this.#skip, chunk.length);
      this.#skip -= dropped;
      if (dropped === chunk.length) return;
      chunk = chunk.subarray(dropped);
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    this.#drain();
  }

  #drain(): void {
    while (this.#buffered >= 4 && !this.#failed) {
      let buf = this.#head(9);
      const length = buf.readUInt32BE(0);
      if (length < 5) return this.#fail(`a frame of ${length} bytes is shorter than its type and call id`);
      if (length > this.#max) {
        if (this.#buffered < 9) return;
        this.#on.oversize(buf[4]!, buf.readUInt32BE(5), length);
        this.#consume(Math.min(this.#buffered, 4 + length), 4 + length);
        continue;
      }
      if (this.#buffered < 4 + length) return;
      buf = this.#head(4 + length);
      const frame = { type: buf[4]!, id: buf.readUInt32BE(5), payload: buf.subarray(9, 4 + length) };
      this.#consume(4 + length, 4 + length);
      this.#on.frame(frame);
    }
  }

  /** The first chunk, joined with the next ones until it holds `bytes` (or all there is). */
  #head(bytes: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.length >= bytes || this.#chunks.length === 1) return first;
    const joined = Buffer.concat(this.#chunks);
    this.#chunks = [joined];
    return joined;
  }

  /** Drops `available` buffered bytes of a frame `total` long; the rest is skipped as it comes. */
  #consume(available: number, total: number): void {
    const first = this.#head(available);
    const rest = first.subarray(available);
    this.#chunks = rest.length > 0 ? [rest, ...this.#chunks.slice(1)] : this.#chunks.slice(1);
    this.#buffered -= available;
    this.#skip = total - available;
  }

  #fail(reason: string): void {
    this.#failed = true;
    this.#chunks = [];
    this.#on.malformed(reason);
  }
}

/**
 * Writes frames to a socket, corked until the end of the tick so that calls or replies made
 * together leave as one TLS record.
 */
export class FrameWriter {
  readonly #socket: Socket;
  #corked = false;
  readonly #uncork = () => {
    this.#corked = false;
    this.#socket.uncork();
  };

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  write(frame: Buffer): void {
    // a peer that ended its side (a client closing its connection) gets nothing more: a write
    // after its FIN would destroy the socket with EPIPE
    if (this.#socket.destroyed || !this.#socket.writable) return;
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(this.#uncork);
    }
    this.#socket.write(frame);
  }
}
