import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, statSync } from 'node:fs';
import type { TlsFiles } from '@carotene/runtime/security';
import { LineSplitter } from './child-output.ts';

/** How a child ended: an exit code, a signal, or an error when it could not be spawned. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: string;
}

/** What a run needs from its spec. */
export interface RunSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readyUrl: string;
  /** Client certificate for an `https:` readyUrl (a service's mutual-TLS listener). */
  readonly readyTls?: TlsFiles;
  /**
   * How readiness is asked: `http` (default) GETs `readyUrl`; `grpc-health` sends
   * `grpc.health.v1.Health/Check` to `readyUrl`'s server and wants SERVING (an external service).
   */
  readonly readyCheck?: 'http' | 'grpc-health';
  /** Working folder of the child (default: this process's). */
  readonly cwd?: string;
  readonly logFile: string;
}

/** Longest wait for a child's pipes to drain after it exited (a grandchild may hold them). */
const DRAIN_MS = 1_000;

/**
 * One spawned instance of a process: its pid, its output going to the log file (and, line
 * by line, to `onLine`), and how it ended. A restart is a new `ChildRun`.
 */
export class ChildRun {
  readonly spec: RunSpec;
  readonly pid: number | undefined;
  readonly startedAt = Date.now();
  /** Size of the log file before this run wrote to it. */
  readonly logOffset: number;
  /** Settles when the child has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** Settles once everything the child wrote is in the log file. */
  readonly flushed: Promise<void>;
  exit: ExitInfo | undefined;
  readonly #child: ChildProcess;

  constructor(spec: RunSpec, onLine: (line: string) => void) {
    this.spec = spec;
    this.logOffset = fileSize(spec.logFile);
    const log = createWriteStream(spec.logFile, { flags: 'a' });
    this.flushed = new Promise((resolve) => {
      log.once('close', resolve);
      log.on('error', () => resolve());
    });
    // own process group: Ctrl-C in the terminal reaches only `carrot`, which then sends
    // SIGTERM so each child shuts down gracefully instead of dying on SIGINT
    const child = spawn(spec.command, [...spec.args], {
      env: spec.env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
    });
    this.#child = child;
    this.pid = child.pid;
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      const lines = new LineSplitter(onLine);
      stream.on('data', (chunk: Buffer) => {
        log.write(chunk);
        lines.push(chunk);
      });
      stream.on('end', () => lines.flush());
    }
    child.once('close', () => log.end());
    this.exited = new Promise((resolve) => {
      const settle = (exit: ExitInfo): void => {
        if (this.exit) return;
        this.exit = exit;
        resolve(exit);
        const drain = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          log.end();
        }, DRAIN_MS);
        child.once('close', () => clearTimeout(drain));
      };
      child.once('exit', (code, signal) => settle({ code, signal }));
      child.once('error', (err) => settle({ code: null, signal: null, error: err.message }));
    });
  }

  /** Sends `signal` to the child's whole process group. */
  kill(signal: NodeJS.Signals): void {
    if (this.exit || this.pid === undefined) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      this.#child.kill(signal);
    }
  }

  /** SIGTERM, then SIGKILL if the child is still up after `graceMs`. */
  async terminate(graceMs: number): Promise<void> {
    if (this.exit) return;
    this.kill('SIGTERM');
    if (await exitedWithin(this, graceMs)) return;
    this.kill('SIGKILL');
    await exitedWithin(this, 2_000);
  }
}

async function exitedWithin(run: ChildRun, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([run.exited.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
