import { Agent, request } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import type { AuthClaims } from 'carotene/model';
import type { CallHead } from './frames.ts';
import { ConnectionError, DeadlineError, type Reply } from './rpc-connection.ts';
import { encodeAuth, HEADER, RPC_PREFIX } from './wire.ts';

/**
 * Calls to an instance that does not speak `carotene-rpc/1` (a Carotene from before it, during
 * a rolling upgrade), the way such a caller made them: `POST /rpc/<fn>` over HTTPS/1.1 with
 * keep-alive, the metadata in headers (wire.ts), a timer per call for the deadline. Same
 * credentials and server identity check as the frames; {@link RpcPeer} switches to it when
 * the server refuses the protocol at the handshake.
 */
export class Http1Peer {
  readonly #agent: Agent;
  readonly #url: string;
  #pending = 0;
  #idle: (() => void) | undefined;

  constructor(url: string, tls: ConnectionOptions, sockets: number) {
    this.#url = url.replace(/\/$/, '');
    this.#agent = new Agent({ ...tls, keepAlive: true, maxSockets: sockets, ALPNProtocols: ['http/1.1'] } as ConstructorParameters<typeof Agent>[0]);
  }

  call(head: CallHead, body: string, deadline: number): Promise<Reply> {
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      [HEADER.timeout]: String(head.timeout),
      [HEADER.requestId]: head.requestId,
    };
    if (head.auth) headers[HEADER.auth] = encodeAuth(head.auth as AuthClaims);
    if (head.idempotencyKey) headers[HEADER.idempotencyKey] = head.idempotencyKey;
    if (head.traceparent) headers[HEADER.traceparent] = head.traceparent;
    if (head.tracestate) headers[HEADER.tracestate] = head.tracestate;
    return this.#request('POST', RPC_PREFIX + encodeURIComponent(head.fn), headers, body, deadline);
  }

  /** True when `GET /health` answers 200 within `ms`. */
  ping(ms: number): Promise<boolean> {
    return this.#request('GET', '/health', {}, '', Date.now() + ms).then(
      (reply) => reply.status === 200,
      () => false,
    );
  }

  /** Resolves once no call is waiting, then closes the sockets. */
  async drain(): Promise<void> {
    if (this.#pending > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    this.#agent.destroy();
  }

  #request(method: string, path: string, headers: Record<string, string | number>, body: string, deadline: number): Promise<Reply> {
    this.#pending++;
    return new Promise<Reply>((resolve, reject) => {
      const req = request(this.#url + path, { method, headers, agent: this.#agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      const timer = setTimeout(
        () => {
          reject(new DeadlineError('deadline'));
          req.destroy();
        },
        Math.max(0, deadline - Date.now()),
      );
      req.on('error', (err: Error & { code?: string }) => {
        const code = err.code ?? err.message;
        reject(new ConnectionError(code, err.message, code !== 'ECONNREFUSED', err));
      });
      req.on('close', () => {
        clearTimeout(timer);
        if (--this.#pending === 0) this.#idle?.();
      });
      req.end(body);
    });
  }
}
