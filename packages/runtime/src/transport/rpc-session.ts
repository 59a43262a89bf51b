import type { TLSSocket } from 'node:tls';
import { platformError } from 'carotene/model';
import { encodeControl, encodeReply, FRAME, FrameReader, FrameWriter, HEAD_ALLOWANCE, type CallHead, type Frame } from './frames.ts';

/** One call read off a connection, for the server to run and answer. */
export interface IncomingCall {
  readonly head: CallHead;
  readonly body: Buffer;
  /** Cuts the whole connection without an answer (an injected `drop` fault). */
  readonly drop: () => void;
}

export interface RpcSessionOptions {
  /** Largest accepted body: a larger CALL is answered PAYLOAD_TOO_LARGE and skipped. */
  readonly bodyLimit: number;
  /** Runs a call; resolves with the HTTP-equivalent status and the JSON body text. */
  readonly serve: (call: IncomingCall) => Promise<readonly [number, string]>;
  /** Told when the peer sent bytes that are not frames (the connection is then closed). */
  readonly onMalformed?: (reason: string) => void;
}

/**
 * Calls a connection starts per turn of the event loop. One read can hold a hundred calls;
 * were they all started at once, all their replies would leave together at the end of the
 * turn and the caller would send the next hundred together too, so caller and callee would
 * take turns waiting for each other. Started sixteen at a time, the first replies leave while
 * the rest wait for the next turn, and both processes work at once: with 100 calls in flight
 * on one connection, 27k → 48k calls/s (docs/benchmarks.md; 8 and 32 measured lower).
 */
export const CALLS_PER_TURN = 16;

/** Calls read but not yet started past which the connection stops reading: TCP then holds the caller back. */
export const MAX_WAITING_CALLS = 1024;

/**
 * The server side of one `carotene-rpc/1` connection: reads CALL frames, runs them
 * concurrently ({@link CALLS_PER_TURN} started per turn, in the order they came), and writes
 * each REPLY as its call ends, corked per tick. Bytes that cannot be frames close this
 * connection (with a GOAWAY that says why) and nothing else; a call over the body limit is
 * answered PAYLOAD_TOO_LARGE and the connection goes on.
 */
export class RpcSession {
  readonly socket: TLSSocket;
  readonly #options: RpcSessionOptions;
  readonly #writer: FrameWriter;
  #calls = 0;
  #goingAway = false;
  /** Calls read but not started: over this turn's share, they start in the next turns. */
  #waiting: Frame[] = [];
  #startedThisTurn = 0;
  readonly #nextTurn = (): void => {
    const now = this.#waiting.splice(0, CALLS_PER_TURN);
    this.#startedThisTurn = now.length;
    if (this.socket.isPaused() && this.#waiting.length < MAX_WAITING_CALLS) this.socket.resume();
    if (now.length === 0) return;
    setImmediate(this.#nextTurn);
    for (const frame of now) this.#call(frame);
  };
  readonly #drop = (): void => void this.socket.destroy();

  constructor(socket: TLSSocket, options: RpcSessionOptions) {
    this.socket = socket;
    this.#options = options;
    this.#writer = new FrameWriter(socket);
    const reader = new FrameReader(options.bodyLimit + HEAD_ALLOWANCE, {
      frame: (frame) => this.#frame(frame),
      oversize: (type, id, length) => {
        if (type !== FRAME.CALL) return this.#malformed(`a frame of type ${type} and ${length} bytes is over the limit`);
        const err = platformError('PAYLOAD_TOO_LARGE', `the call of ${length} bytes is over the limit of ${options.bodyLimit}`);
        this.#writer.write(encodeReply(id, err.status, JSON.stringify({ error: err.toJSON() })));
      },
      malformed: (reason) => this.#malformed(reason),
    });
    socket.setNoDelay(true);
    // a peer that vanished without a word is found out and its connection closed
    socket.setKeepAlive(true, 30_000);
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    // a peer that vanished is not an error of the server
    socket.on('error', () => undefined);
    // calls not started when the connection goes have no one to answer to
    socket.once('close', () => void (this.#waiting = []));
  }

  /** Calls running on this connection. */
  get calls(): number {
    return this.#calls;
  }

  /**
   * Asks the peer to send no more calls here; calls that still arrive are REFUSED, not run, so
   * the peer may send them elsewhere. The peer closes the connection once its calls are answered.
   */
  goAway(): void {
    if (this.#goingAway) return;
    this.#goingAway = true;
    this.#writer.write(encodeControl(FRAME.GOAWAY, 0));
    // the next turn finds none waiting and reads on, so the peer's end is still seen
    for (const frame of this.#waiting.splice(0)) this.#refuse(frame.id);
  }

  #frame(frame: Frame): void {
    switch (frame.type) {
      case FRAME.CALL:
        return this.#admit(frame);
      case FRAME.PING:
        return this.#writer.write(encodeControl(FRAME.PONG, frame.id));
      default:
        return this.#malformed(`a client may not send a frame of type ${frame.type}`);
    }
  }

  /** Starts the call now if this turn's share allows and none is waiting before it; else queues it. */
  #admit(frame: Frame): void {
    if (this.#goingAway) return this.#refuse(frame.id);
    if (this.#waiting.length > 0 || this.#startedThisTurn >= CALLS_PER_TURN) {
      if (this.#waiting.push(frame) === MAX_WAITING_CALLS) this.socket.pause();
      return;
    }
    if (this.#startedThisTurn++ === 0) setImmediate(this.#nextTurn);
    this.#call(frame);
  }

  #refuse(id: number): void {
    this.#writer.write(encodeControl(FRAME.REFUSED, id, 'the server is shutting down'));
  }

  #call(frame: Frame): void {
    if (this.#goingAway) return this.#refuse(frame.id);
    const { payload, id } = frame;
    const headLength = payload.length >= 4 ? payload.readUInt32BE(0) : -1;
    if (headLength < 0 || headLength > payload.length - 4)
      return this.#malformed(`call ${id} has a head of ${headLength} bytes in a frame of ${payload.length}`);
    let head: CallHead;
    try {
      head = JSON.parse(payload.toString('utf8', 4, 4 + headLength)) as CallHead;
    } catch {
      return this.#malformed(`the head of call ${id} is not JSON`);
    }
    if (typeof head !== 'object' || head === null || typeof head.fn !== 'string') return this.#malformed(`the head of call ${id} names no function`);
    this.#calls++;
    const call = { head, body: payload.subarray(4 + headLength), drop: this.#drop };
    void this.#options.serve(call).then(([status, body]) => {
      this.#calls--;
      this.#writer.write(encodeReply(id, status, body));
    });
  }

  #malformed(reason: string): void {
    this.#options.onMalformed?.(reason);
    const err = platformError('MALFORMED_REQUEST', `carotene-rpc/1: ${reason}; the connection is closed`);
    this.#writer.write(encodeControl(FRAME.GOAWAY, 0, JSON.stringify({ error: err.toJSON() })));
    this.socket.end();
    // calls still running on this connection lose their answers, like a closed HTTP socket's
    setTimeout(() => this.socket.destroy(), 1_000).unref();
  }
}
