import { open } from 'node:fs/promises';

/** Bytes read from the end of a log at most: enough for the last lines, whatever the file size. */
const WINDOW = 64 * 1024;

/**
 * The last `lines` lines of `file`, reading only what was written from byte `from` on
 * (so a log appended to across runs shows this run only). Empty when the file is missing.
 */
export async function tailLines(file: string, lines: number, from = 0): Promise<string[]> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = (await handle.stat()).size;
    const start = Math.max(from, size - WINDOW);
    if (size <= start) return [];
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const all = buffer.toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    // a window that starts mid-line would show a fragment first
    if (start > from) all.shift();
    return all.slice(-lines);
  } finally {
    await handle.close();
  }
}
