import type { ConnectionOptions } from 'node:tls';
import type { CallHead } from './frames.ts';
import { Http1Peer } from './http1-peer.ts';
import type { DeadlineSweep } from './deadline-sweep.ts';
import { ConnectionError, RpcConnection, type Reply } from './rpc-connection.ts';

export interface RpcPeerOptions {
  /** `https://host:port` of the instance. */
  readonly url: string;
  /** Most connections to keep to it; a new one opens only when every open one has calls waiting. */
  readonly connections: number;
  /** TLS options of each connection: credentials and the server identity check. */
  readonly tls: ConnectionOptions;
  readonly sweep: DeadlineSweep;
}

/**
 * The connections to one instance of a service. Calls share them: each call goes to the open
 * connection with the fewest calls waiting, and another connection opens (up to the limit)
 * only when all of them are busy, so one-at-a-time calls use one connection. A connection
 * that closes or is told to go away leaves the set; the next call opens a fresh one. An
 * instance that refuses `carotene-rpc/1` at the handshake (a Carotene from before it, during a
 * rolling upgrade) is called over HTTP/1.1 from then on ({@link Http1Peer}).
 *
 * ```ts
 * const peer = new RpcPeer({ url, connections: 2, tls: { ca, cert, key }, sweep });
 * const reply = await peer.call({ fn: 'echo', timeout: 5000, requestId }, '{"a":1}', Date.now() + 5000);
 * ```
 */
export class RpcPeer {
  readonly #options: RpcPeerOptions;
  readonly #target: { host: string; port: number };
  #open: RpcConnection[] = [];
  #drained = false;
  /** Set once the instance refused `carotene-rpc/1`: it is an older Carotene, called over HTTP/1.1. */
  #http1: Http1Peer | undefined;

  constructor(options: RpcPeerOptions) {
    this.#options = options;
    const url = new URL(options.url);
    this.#target = { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 443) };
  }

  call(head: CallHead, body: string, deadline: number): Promise<Reply> {
    if (this.#http1) return this.#http1.call(head, body, deadline);
    const connection = this.#pick();
    this.#options.sweep.watch(connection);
    return connection.call(head, body, deadline).catch((err: unknown) => {
      // an older Carotene refused the protocol at the handshake: nothing was sent, so ask it over HTTP/1.1
      if (!(err instanceof ConnectionError && err.code === 'EALPN') || this.#drained) throw err;
      this.#http1 ??= new Http1Peer(this.#options.url, this.#options.tls, 32);
      return this.#http1.call(head, body, deadline);
    });
  }

  /** True when the instance answers a PING within `ms` (on a fresh connection if need be). */
  async ping(ms: number): Promise<boolean> {
    if (this.#http1) return this.#http1.ping(ms);
    const connection = this.#pick();
    this.#options.sweep.watch(connection);
    return connection.ping(ms);
  }

  /** No new calls; each connection ends once its calls are answered. Resolves when all have. */
  async drain(): Promise<void> {
    this.#drained = true;
    const all = this.#open;
    this.#open = [];
    for (const c of all) c.drain();
    await Promise.all([...all.map((c) => c.closed), this.#http1?.drain()]);
  }

  #pick(): RpcConnection {
    let best: RpcConnection | undefined;
    for (const c of this.#open) if (c.usable && (!best || c.pending < best.pending)) best = c;
    if (best && (best.pending === 0 || this.#open.length >= this.#options.connections)) return best;
    if (this.#drained) throw new ConnectionError('ECLOSED', 'the transport is closed', false);
    const connection = new RpcConnection({ ...this.#options.tls, ...this.#target }, (closed) => this.#forget(closed));
    this.#open.push(connection);
    return connection;
  }

  #forget(connection: RpcConnection): void {
    this.#open = this.#open.filter((c) => c !== connection);
    this.#options.sweep.forget(connection);
  }
}
