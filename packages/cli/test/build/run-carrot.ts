import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.ts';

/** Runs `carrot <argv>` in this process and captures what it prints. */
export async function carrot(argv: readonly string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'carrot-build-'));
}

/** A fixture app module, and its path as `carrot build` prints it (relative to the working folder). */
export function fixtureApp(name: string): { file: string; shown: string } {
  const file = fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url));
  return { file, shown: relative(process.cwd(), file) };
}

export const SHOP = fileURLToPath(new URL('../../../../examples/shop/app.ts', import.meta.url));
