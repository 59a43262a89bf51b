import type { ChildProcess } from 'node:child_process';

/** SIGTERM, then SIGKILL after 15 s; resolves with the exit code (`exited` is the child's exit). */
export async function stopProcess(child: ChildProcess, exited: Promise<number | null>): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}
