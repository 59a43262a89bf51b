import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** What the client-error handler may do on a connection whose bytes stopped parsing. */
export type ClientErrorVerdict = 'answer' | 'close';

/**
 * Remembers, per connection, the response to the request node read last, so that an error
 * in what arrives after it (a malformed chunked body, a body too slow) is answered only
 * when no answer is on the wire for it yet. A second status line on a kept-alive connection
 * would be read, by a proxy reusing it, as the answer to the next request.
 *
 * ```ts
 * const answers = new ConnectionAnswers();
 * answers.watch(httpServer);
 * if (answers.verdict(socket) === 'answer') socket.end(badRequest);
 * ```
 */
export class ConnectionAnswers {
  // weak: a closed connection takes its entry with it
  readonly #last = new WeakMap<Socket, ServerResponse>();

  watch(server: Server): void {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#last.set(req.socket, res));
  }

  /**
   * `answer` when the bytes in error belong to a request that has no answer yet and none is
   * owed before it; `close` otherwise (the request in error was answered already, or an
   * earlier answer is still being made, which a status line written now would pose as).
   */
  verdict(socket: Socket): ClientErrorVerdict {
    const res = this.#last.get(socket);
    // nothing read on this connection yet: the error is in the first request's head
    if (res === undefined) return 'answer';
    // the error is in this request's body: answer it unless it has an answer already
    if (!res.req.complete) return res.socket === socket && !res.headersSent ? 'answer' : 'close';
    // the error is in the next request's head: answer only once the last answer is out and
    // node let go of it (it detaches a response on 'finish', and ends the socket right there
    // when that answer said `connection: close`, so nothing follows a last answer)
    return res.writableFinished && res.socket === null ? 'answer' : 'close';
  }
}
