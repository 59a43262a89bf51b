// A raw TCP client for the gateway's HTTP/1.1 tests: bytes in, the exact bytes back.
import { connect, type Socket } from 'node:net';

/** One connection whose every received byte is kept, in order, as latin1 text. */
export interface RawConnection {
  readonly socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves once `pattern` matches what was received (rejects after `ms`). */
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  /** Resolves with everything received once the server closed the connection (rejects after `ms`). */
  closed(ms?: number): Promise<string>;
}

export function rawConnection(url: string): Promise<RawConnection> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let data = '';
    let ended = false;
    const changed: Array<() => void> = [];
    const notify = () => {
      for (const f of changed.splice(0)) f();
    };
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      notify();
    });
    // a reset after the server's close is still a close
    socket.on('error', () => undefined);
    socket.on('close', () => {
      ended = true;
      notify();
    });
    const until = (done: () => boolean, what: string, ms: number): Promise<string> =>
      new Promise((ok, fail) => {
        const timer = setTimeout(() => fail(new Error(`timed out after ${ms} ms waiting for ${what}; received ${JSON.stringify(data)}`)), ms);
        const check = () => {
          if (done()) {
            clearTimeout(timer);
            ok(data);
          } else if (ended) {
            clearTimeout(timer);
            if (done()) ok(data);
            else fail(new Error(`connection closed before ${what}; received ${JSON.stringify(data)}`));
          } else changed.push(check);
        };
        check();
      });
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => data,
        waitFor: (pattern, ms = 3_000) => until(() => pattern.test(data), String(pattern), ms),
        closed: (ms = 3_000) => until(() => ended, 'the close', ms),
      }),
    );
    socket.once('error', reject);
  });
}

/** Every status line in `wire`: one per answer. */
export function statusLines(wire: string): string[] {
  return wire.match(/HTTP\/1\.[01] \d{3} [^\r\n]*/g) ?? [];
}

/** Writes one request and reads the whole answer until the server closes. */
export async function exchange(url: string, request: string): Promise<string> {
  const c = await rawConnection(url);
  c.socket.write(request);
  return c.closed();
}
