import { fileURLToPath } from 'node:url';

/**
 * Where a declaration was made, from a stack captured inside the declaring function:
 * `/abs/path/services/orders/service.ts:12` (the first frame outside this folder), or
 * undefined when the stack says nothing usable. Lets `carrot build` point at the source.
 */
export function declaredAt(stack: string | undefined): string | undefined {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const line of (stack ?? '').split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?\s*$/.exec(line);
    if (!m) continue;
    const file = m[1]!.startsWith('file://') ? fileURLToPath(m[1]!) : m[1]!;
    if (file.startsWith(here)) continue;
    return `${file}:${m[2]}`;
  }
  return undefined;
}
