import { readFileSync, writeFileSync } from 'node:fs';

/**
 * A fault point for crash tests: when the file named by `CAROTENE_CRASH_FILE` lists `point`
 * on a line of its own (e.g. `saga:checkout:after:reserve`), the process removes that line
 * (each armed point fires once) and kills itself with SIGKILL, as a power cut would.
 * Without the variable this costs one property read.
 *
 * ```sh
 * echo saga:checkout:after:charge >> "$CAROTENE_CRASH_FILE"
 * ```
 */
export function crashPoint(point: string): void {
  const file = process.env.CAROTENE_CRASH_FILE;
  if (!file) return;
  let lines: string[];
  try {
    lines = readFileSync(file, 'utf8').split('\n');
  } catch {
    return;
  }
  if (!lines.includes(point)) return;
  writeFileSync(file, lines.filter((l) => l !== point).join('\n'));
  process.kill(process.pid, 'SIGKILL');
}
