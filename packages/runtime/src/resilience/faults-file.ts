import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { faultSchema, type FaultRule } from 'carotene/model';
import { platformError } from 'carotene/model';

/** Where `carrot faults` keeps the faults added at run time: `<dataDir>/faults.json`. */
export function faultsFile(dataDir: string): string {
  return join(dataDir, 'faults.json');
}

const fileSchema = z.strictObject({ faults: z.array(faultSchema) });

/** The rules in the file; none when it does not exist. Throws INVALID_CONFIG when it is malformed. */
export function readFaultsFile(file: string): FaultRule[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw platformError('INVALID_CONFIG', `${file} is not valid JSON`);
  }
  const result = fileSchema.safeParse(parsed);
  if (!result.success) throw platformError('INVALID_CONFIG', `${file}: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return result.data.faults;
}

/** Writes the rules atomically (beside, then renamed over), so a watcher never reads half a file. */
export async function writeFaultsFile(file: string, faults: readonly FaultRule[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ faults }, null, 2)}\n`);
  await rename(tmp, file);
}

/**
 * Calls `onChange` with the file's rules now and whenever it changes (polled every
 * `intervalMs`, which also notices a file replaced by rename); a malformed file goes to
 * `onError` and the previous rules stay. Returns the stop function.
 *
 * ```ts
 * const stop = watchFaultsFile(faultsFile(dataDir), (rules) => injector.setDynamic(rules));
 * ```
 */
export function watchFaultsFile(
  file: string,
  onChange: (rules: FaultRule[]) => void,
  options: { intervalMs?: number; onError?: (err: unknown) => void } = {},
): () => void {
  const load = (): void => {
    try {
      onChange(readFaultsFile(file));
    } catch (err) {
      options.onError?.(err);
    }
  };
  load();
  const listener = (): void => load();
  watchFile(file, { interval: options.intervalMs ?? 200, persistent: false }, listener);
  return () => unwatchFile(file, listener);
}
