import { mkdtempSync } from 'node:fs';
import { once } from 'node:events';
import type { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reservePorts } from '../../src/cli/ports.ts';
import type { ProcessSpec } from '../../src/cli/supervisor.ts';

export const CHILD = fileURLToPath(new URL('./fixtures/child.mjs', import.meta.url));
export const CARROT = fileURLToPath(new URL('../../bin/carrot.js', import.meta.url));

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'carrot-test-'));
}

export async function freePort(): Promise<number> {
  const { gateway } = await reservePorts({ host: '127.0.0.1', port: 0 }, 0);
  return gateway;
}

/** A spec running the fixture child in `mode`. */
export async function fixture(dir: string, name: string, mode: string, env: Record<string, string> = {}): Promise<ProcessSpec> {
  const port = await freePort();
  return {
    name,
    command: process.execPath,
    args: [CHILD],
    env: { PATH: process.env['PATH'], FIXTURE_MODE: mode, FIXTURE_PORT: String(port), ...env },
    readyUrl: `http://127.0.0.1:${port}/ready`,
    logFile: join(dir, 'logs', `${name}.log`),
  };
}

export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The next `event` of `emitter`, or a rejection after `ms`. */
export async function next<T extends unknown[]>(emitter: EventEmitter, event: string, ms = 10_000): Promise<T> {
  return (await once(emitter, event, { signal: AbortSignal.timeout(ms) })) as T;
}
