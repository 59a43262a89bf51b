import { isAbsolute, relative } from 'node:path';

/** A path for humans: relative when inside the working folder, absolute otherwise (no ../../tmp). */
export function shownPath(path: string): string {
  const r = relative(process.cwd(), path);
  return r === '' ? '.' : r.startsWith('..') || isAbsolute(r) ? path : r;
}
