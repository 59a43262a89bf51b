import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openApiDocument } from '../build/openapi.ts';
import type { AppDef } from 'carotene/model';
import { isCaroteneError, platformError } from 'carotene/model';
import type { EventFeed } from './event-feed.ts';
import { callGateway, type GatewayCall } from './gateway-call.ts';
import type { HealthCollector } from './health-collector.ts';
import { LiveState } from './live-state.ts';
import { receiveTraces } from './otlp-receiver.ts';
import { readBody } from './request-body.ts';
import type { SagaFeed } from './saga-feed.ts';
import { SseHub } from './sse-hub.ts';
import { topologyOf } from './topology.ts';
import { TraceStore } from './trace-store.ts';

export interface DashboardOptions {
  readonly app: AppDef;
  /** Default 127.0.0.1: the dashboard replays events and calls the API; keep it local. */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Where the API explorer sends requests. */
  readonly gatewayUrl: string;
  readonly health: HealthCollector;
  readonly events: EventFeed;
  /** The app's saga instances; no Sagas view without it. */
  readonly sagas?: SagaFeed | undefined;
  /** Default: a store of the last 500 traces. */
  readonly traces?: TraceStore;
  /** How often health is looked at (default 2 000 ms). */
  readonly healthIntervalMs?: number;
  /** How often the event tables are read for changes (default 1 500 ms). */
  readonly eventsIntervalMs?: number;
}

const STATIC = new URL('./static/', import.meta.url);
const STATIC_FILE = /^[a-z0-9-]+\.(?:js|css|html|svg)$/;
const TYPES: Record<string, string> = { js: 'text/javascript', css: 'text/css', html: 'text/html', svg: 'image/svg+xml' };
const MAX_API_BODY = 1024 * 1024;

/**
 * The dev dashboard `carrot dev` serves: one page (plain HTML, CSS and JavaScript modules
 * under `static/`), a JSON API for its views, live updates over Server-Sent Events, and the
 * OTLP/HTTP trace receiver the app's processes export to (`POST /v1/traces`).
 *
 * ```ts
 * const dashboard = new DashboardServer({ app, port: 9400, gatewayUrl, health, events });
 * const url = await dashboard.start();   // http://127.0.0.1:9400
 * await dashboard.close();
 * ```
 */
export class DashboardServer {
  readonly traces: TraceStore;
  readonly #o: DashboardOptions;
  readonly #hub = new SseHub();
  readonly #live: LiveState;
  readonly #server: Server;
  #origin = '';

  constructor(options: DashboardOptions) {
    this.#o = options;
    this.traces = options.traces ?? new TraceStore();
    this.#live = new LiveState({
      hub: this.#hub,
      traces: this.traces,
      health: options.health,
      events: options.events,
      sagas: options.sagas,
      healthIntervalMs: options.healthIntervalMs,
      eventsIntervalMs: options.eventsIntervalMs,
    });
    this.#server = createServer((req, res) => void this.#handle(req, res));
    // SSE streams stay open; do not let the default timeouts cut them
    this.#server.requestTimeout = 0;
  }

  /** Listens and starts looking at the app; resolves with the dashboard's URL. */
  async start(): Promise<string> {
    const host = this.#o.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#o.port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.#server.address() as AddressInfo;
    this.#origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.#live.start();
    return this.#origin;
  }

  get url(): string {
    return this.#origin;
  }

  async close(): Promise<void> {
    this.#live.stop();
    this.#hub.close();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    try {
      if (req.method === 'POST' && path === '/v1/traces') {
        await receiveTraces(req, this.traces);
        return json(res, 200, {});
      }
      if (req.method === 'GET') return await this.#get(path, url.searchParams, res);
      if (req.method === 'POST' && path.startsWith('/api/')) {
        this.#checkOrigin(req);
        return await this.#post(path, req, res);
      }
      throw platformError('ROUTE_NOT_FOUND', `no ${req.method} ${path} on the dashboard`);
    } catch (err) {
      const error = isCaroteneError(err) ? err : platformError('INTERNAL', (err as Error).message ?? String(err));
      if (!res.headersSent) json(res, error.status, { error: { code: error.code, message: error.message } });
      else res.end();
    }
  }

  async #get(path: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
    if (path === '/' || path === '/index.html') return staticFile(res, 'index.html');
    if (path.startsWith('/static/')) return staticFile(res, path.slice('/static/'.length));
    if (path === '/api/stream') return this.#hub.attach(res);
    if (path === '/api/app')
      return json(res, 200, { app: this.#o.app.name, gateway: this.#o.gatewayUrl, topology: topologyOf(this.#o.app), sagas: this.#o.sagas !== undefined });
    if (path === '/api/health') return json(res, 200, await this.#live.health());
    if (path === '/api/traces') return json(res, 200, { traces: this.traces.list(Number(query.get('limit') ?? 100)) });
    if (path.startsWith('/api/traces/')) {
      const id = decodeURIComponent(path.slice('/api/traces/'.length));
      const trace = this.traces.get(id);
      if (!trace) throw platformError('ROUTE_NOT_FOUND', `no trace ${id} (the dashboard keeps the last ${this.traces.size} it received)`);
      return json(res, 200, { summary: this.traces.summary(id), ...trace });
    }
    if (path === '/api/events')
      return json(res, 200, { events: await this.#o.events.recent(Number(query.get('limit') ?? 50)), deadLetters: await this.#o.events.deadLetters() });
    if (path === '/api/sagas' && this.#o.sagas) return json(res, 200, { sagas: await this.#o.sagas.list(Number(query.get('limit') ?? 50)) });
    if (path.startsWith('/api/sagas/') && this.#o.sagas) {
      const id = decodeURIComponent(path.slice('/api/sagas/'.length));
      const saga = await this.#o.sagas.show(id);
      if (!saga) throw platformError('ROUTE_NOT_FOUND', `no saga instance ${id}`);
      return json(res, 200, saga);
    }
    if (path === '/api/openapi') return json(res, 200, openApiDocument(this.#o.app));
    throw platformError('ROUTE_NOT_FOUND', `no GET ${path} on the dashboard`);
  }

  async #post(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseJson(await readBody(req, MAX_API_BODY));
    const replay = /^\/api\/dead-letters\/([^/]+)\/([^/]+)\/replay$/.exec(path);
    if (replay) {
      const [service, id] = [decodeURIComponent(replay[1]!), decodeURIComponent(replay[2]!)];
      if (!(await this.#o.events.replay(service, id))) throw platformError('ROUTE_NOT_FOUND', `${service} has no dead letter ${id}`);
      this.#live.eventsChanged();
      return json(res, 200, { replayed: id, service });
    }
    if (path === '/api/call') return json(res, 200, await callGateway(this.#o.gatewayUrl, body as GatewayCall));
    throw platformError('ROUTE_NOT_FOUND', `no POST ${path} on the dashboard`);
  }

  /**
   * The API replays events and sends requests: a page of another site must not be able to
   * make the browser do it, so POSTs need JSON (which forces a CORS preflight this server
   * never grants) and, when the browser names an origin, this one.
   */
  #checkOrigin(req: IncomingMessage): void {
    const origin = req.headers.origin;
    const type = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    if ((origin !== undefined && origin !== this.#origin) || type !== 'application/json') {
      throw platformError('FORBIDDEN', 'the dashboard API accepts JSON requests from the dashboard page only');
    }
  }
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw platformError('MALFORMED_REQUEST', `the body is not JSON: ${(err as Error).message}`);
  }
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function staticFile(res: ServerResponse, name: string): Promise<void> {
  if (!STATIC_FILE.test(name)) throw platformError('ROUTE_NOT_FOUND', `no file ${name}`);
  let body: Buffer;
  try {
    body = await readFile(new URL(name, STATIC));
  } catch {
    throw platformError('ROUTE_NOT_FOUND', `no file ${name}`);
  }
  res.writeHead(200, { 'content-type': `${TYPES[name.split('.').pop()!]}; charset=utf-8`, 'cache-control': 'no-cache', 'content-length': body.length });
  res.end(body);
}
