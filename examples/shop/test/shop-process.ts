// Starts the shop with `carrot dev` as real processes, for end-to-end tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { stopProcess } from '../../../packages/runtime/test/support/stop-process.ts';

const shopDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const carrot = join(shopDir, '..', '..', 'packages', 'cli', 'bin', 'carrot.js');

export interface RunningShop {
  readonly url: string;
  readonly dataDir: string;
  readonly output: () => string;
  stop(): Promise<number | null>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The `carrot` command line of this checkout. */
export const CARROT = carrot;

/** Runs `carrot dev <app>` (default: examples/shop) on a free gateway port and a fresh data folder. */
export async function startShop(extraArgs: readonly string[] = [], timeoutMs = 60_000, app = shopDir): Promise<RunningShop> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'carotene-shop-'));
  const child: ChildProcess = spawn(process.execPath, [carrot, 'dev', app, '--port', String(port), '--data-dir', dataDir, '--no-typecheck', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`carrot dev exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the shop was not ready within ${timeoutMs} ms:\n${out}`);
    }
    if (await ready(url)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    dataDir,
    output: () => out,
    stop: () => stopProcess(child, exited),
  };
}

export type Row = Record<string, unknown>;

/** An answer of the shop's public API: the status (0 when none came) and the JSON body (`{}` when not JSON). */
export interface ApiAnswer {
  readonly status: number;
  readonly body: Row;
}

/**
 * A JSON client for the shop's public API at `baseUrl`.
 *
 * ```ts
 * const api = shopApi(shop.url);
 * const { status, body } = await api('POST', '/api/users/login', { email, password });
 * ```
 */
export function shopApi(baseUrl: string, defaultTimeoutMs = 15_000) {
  return async (method: string, path: string, body?: unknown, token?: string, timeoutMs = defaultTimeoutMs): Promise<ApiAnswer> => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    try {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      try {
        return { status: res.status, body: text ? (JSON.parse(text) as Row) : {} };
      } catch {
        return { status: res.status, body: {} }; // an HTML or empty error page: keep the status
      }
    } catch {
      return { status: 0, body: {} };
    }
  };
}

/** Rows of one service's SQLite database in `dataDir`, read-only, while the shop runs. */
export function queryShopDb(dataDir: string, service: string, sql: string): Row[] {
  const db = new Database(join(dataDir, 'db', `${service}.sqlite`), { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return db.prepare(sql).all() as Row[];
  } finally {
    db.close();
  }
}

async function ready(url: string): Promise<boolean> {
  try {
    // The gateway answers only after `carrot dev` saw every service ready and started it.
    const res = await fetch(`${url}/ready`);
    return res.ok;
  } catch {
    return false;
  }
}
