import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { encodeCall, encodeControl, FRAME, FrameReader, FrameWriter, RPC_ALPN, type CallHead, type Frame } from './frames.ts';

/** A reply as the server sent it: the HTTP-equivalent status and the JSON body text. */
export interface Reply {
  readonly status: number;
  readonly body: string;
}

/**
 * Why a call got no reply. `sent: false` means the server never ran it (the connection was
 * refused, or the server refused the call while shutting down), so another instance may take
 * it. Code `EALPN`: the server does not speak `carotene-rpc/1`.
 */
export class ConnectionError extends Error {
  readonly code: string;
  readonly sent: boolean;
  constructor(code: string, message: string, sent: boolean, cause?: unknown) {
    super(message, { cause });
    this.code = code;
    this.sent = sent;
  }
}

/** The caller stopped waiting at its deadline. */
export class DeadlineError extends Error {}

interface Pending {
  readonly resolve: (reply: Reply) => void;
  readonly reject: (err: Error) => void;
  readonly deadline: number;
}

/** Replies are not bounded by the server's body limit; this only stops a runaway peer. */
const MAX_REPLY = 256 * 1024 * 1024;

/**
 * The client side of one `carotene-rpc/1` connection: many calls in flight at once, each
 * paired with its reply by call id, writes corked per tick. Deadlines are checked by one
 * sweep (see DeadlineSweep) instead of a timer per call. When the connection closes,
 * every call still waiting fails with a {@link ConnectionError}.
 */
export class RpcConnection {
  readonly #socket: TLSSocket;
  readonly #writer: FrameWriter;
  readonly #pending = new Map<number, Pending>();
  readonly #onClose: (connection: RpcConnection) => void;
  #nextId = 1;
  #secure = false;
  #closed = false;
  /** The server sent GOAWAY, or we are closing: no new calls here. */
  draining = false;
  #goAwayReason: string | undefined;
  /** Resolves when the connection is closed (and no call can use it any more). */
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;

  constructor(options: ConnectionOptions & { host: string; port: number }, onClose: (connection: RpcConnection) => void) {
    this.#onClose = onClose;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#socket = connect({ ...options, ALPNProtocols: [RPC_ALPN] });
    this.#socket.setNoDelay(true);
    this.#socket.setKeepAlive(true, 30_000);
    // an idle connection does not keep the process alive; one with calls waiting does
    this.#socket.unref();
    this.#writer = new FrameWriter(this.#socket);
    const reader = new FrameReader(MAX_REPLY, {
      frame: (frame) => this.#frame(frame),
      oversize: (_type, _id, length) => this.#fail(new ConnectionError('EPROTO', `the server sent a frame of ${length} bytes`, true)),
      malformed: (reason) => this.#fail(new ConnectionError('EPROTO', `the server sent a malformed frame: ${reason}`, true)),
    });
    this.#socket.once('secureConnect', () => {
      if (this.#socket.alpnProtocol !== RPC_ALPN) {
        const got = this.#socket.alpnProtocol || 'no protocol';
        return this.#fail(new ConnectionError('EALPN', `the server does not speak ${RPC_ALPN} (it chose ${got})`, false));
      }
      this.#secure = true;
    });
    this.#socket.on('data', (chunk: Buffer) => reader.push(chunk));
    this.#socket.on('error', (err: Error & { code?: string }) => {
      // before the handshake nothing was sent, so the call may go elsewhere
      if (!this.#secure && /no application protocol/.test(err.message)) {
        return this.#fail(new ConnectionError('EALPN', `the server does not speak ${RPC_ALPN} (it refused the protocol at the handshake)`, false, err));
      }
      const code = err.code ?? err.message;
      this.#fail(new ConnectionError(code, err.message, this.#secure || code !== 'ECONNREFUSED', err));
    });
    this.#socket.on('close', () => this.#fail(new ConnectionError('ECONNRESET', this.#goAwayReason ?? 'the connection closed before the answer', true)));
  }

  /** Calls waiting for their reply. */
  get pending(): number {
    return this.#pending.size;
  }

  get usable(): boolean {
    return !this.#closed && !this.draining;
  }

  call(head: CallHead, body: string, deadline: number): Promise<Reply> {
    return this.#send((id) => encodeCall(id, head, body), deadline);
  }

  /** Resolves true when the server answers a PING within `ms`. */
  ping(ms: number): Promise<boolean> {
    return this.#send((id) => encodeControl(FRAME.PING, id), Date.now() + ms).then(
      () => true,
      () => false,
    );
  }

  #send(frame: (id: number) => Buffer, deadline: number): Promise<Reply> {
    if (this.#closed) return Promise.reject(new ConnectionError('ECONNRESET', 'the connection is closed', false));
    const id = this.#nextId;
    this.#nextId = id === 0xffffffff ? 1 : id + 1;
    if (this.#pending.size === 0) this.#socket.ref();
    return new Promise<Reply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, deadline });
      this.#writer.write(frame(id));
    });
  }

  /** Fails every call whose deadline is past; returns how many are still waiting. */
  sweep(now: number): number {
    for (const [id, p] of this.#pending) {
      if (p.deadline <= now) {
        this.#pending.delete(id);
        p.reject(new DeadlineError('deadline'));
      }
    }
    if (this.#pending.size === 0) {
      this.#socket.unref();
      if (this.draining) this.#end();
    }
    return this.#pending.size;
  }

  /** No new calls; the socket ends once the calls in flight are answered. */
  drain(): void {
    this.draining = true;
    if (this.#pending.size === 0) this.#end();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #frame(frame: Frame): void {
    if (frame.type === FRAME.REPLY || frame.type === FRAME.PONG || frame.type === FRAME.REFUSED) {
      const p = this.#pending.get(frame.id);
      if (!p) return; // its caller gave up at the deadline
      this.#pending.delete(frame.id);
      if (frame.type === FRAME.REFUSED) p.reject(new ConnectionError('EREFUSED', `the server refused the call: ${frame.payload.toString('utf8')}`, false));
      else if (frame.type === FRAME.PONG) p.resolve({ status: 200, body: '' });
      else p.resolve({ status: frame.payload.readUInt16BE(0), body: frame.payload.toString('utf8', 2) });
      if (this.#pending.size === 0) {
        this.#socket.unref();
        if (this.draining) this.#end();
      }
      return;
    }
    if (frame.type === FRAME.GOAWAY) {
      if (frame.payload.length > 0) this.#goAwayReason = `the server closed the connection: ${frame.payload.toString('utf8')}`;
      this.draining = true;
      if (this.#pending.size === 0) this.#end();
      return;
    }
    this.#fail(new ConnectionError('EPROTO', `the server sent a frame of unknown type ${frame.type}`, true));
  }

  #end(): void {
    if (this.#closed) return;
    this.#socket.end();
    this.#fail(new ConnectionError('ECONNRESET', 'the connection closed', false));
  }

  #fail(err: ConnectionError): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#onClose(this);
      this.#resolveClosed();
    }
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(err);
    if (!this.#socket.destroyed && err.code !== 'ECONNRESET') this.#socket.destroy();
  }
}
