// Starts a contender's server as its own process and learns where it listens.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface ChildServer {
  /** What the child reported when it was ready (its port, and anything else it wants known). */
  readonly info: Record<string, unknown>;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Forks `module` (TypeScript, through tsx) with an IPC channel; the child sends one message
 * `{ ready: true, ... }` once it listens. Its stdout goes nowhere, like a service's log in a
 * container that nobody reads; stderr is kept for the error message.
 */
export async function startChild(module: string, env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ChildServer> {
  const child: ChildProcess = fork(module, [], {
    // BENCH_CPU_PROF=<dir> profiles every contender's server (node --cpu-prof)
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [])],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${module} was not ready within ${timeoutMs} ms\n${stderr}`)), timeoutMs);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as Record<string, unknown>);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${module} exited with ${code} before it was ready\n${stderr}`));
    });
  });
  return {
    info,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** For a child: tells the parent it is ready. */
export function reportReady(info: Record<string, unknown>): void {
  process.send?.({ ready: true, ...info });
}
