import type { ServerResponse } from 'node:http';

/**
 * The browsers watching the dashboard, each on one Server-Sent Events stream: every view
 * learns that its data changed (`health`, `traces`, `events`, `sagas`) and fetches it again,
 * so nothing reloads. A comment every 15 s keeps idle connections open through proxies.
 *
 * ```ts
 * hub.attach(res);               // GET /api/stream
 * hub.send('traces', { ids });   // to every browser
 * ```
 */
export class SseHub {
  readonly #clients = new Set<ServerResponse>();
  readonly #keepAlive: NodeJS.Timeout;

  constructor() {
    this.#keepAlive = setInterval(() => {
      for (const res of this.#clients) res.write(': keep-alive\n\n');
    }, 15_000);
    this.#keepAlive.unref();
  }

  attach(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    // the browser reconnects after 1 s when the stream breaks (carrot dev restarting)
    res.write('retry: 1000\n\n');
    this.#clients.add(res);
    res.on('close', () => this.#clients.delete(res));
  }

  send(event: string, data: unknown): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of this.#clients) res.write(frame);
  }

  get size(): number {
    return this.#clients.size;
  }

  close(): void {
    clearInterval(this.#keepAlive);
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }
}
