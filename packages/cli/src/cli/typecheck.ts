import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** tsc's incremental state, in the app's data folder (`.carotene/`). */
export const TYPECHECK_STATE = 'typecheck.tsbuildinfo';

/** What a type check found: nothing to check, no errors, or tsc's own diagnostics. */
export type TypecheckResult =
  | { readonly status: 'skipped'; readonly reason: string }
  | { readonly status: 'ok'; readonly ms: number }
  | { readonly status: 'failed'; readonly ms: number; readonly output: string; readonly errors: number };

export interface TypecheckOptions {
  /** Folder of the app module; checked when it has a tsconfig.json. */
  readonly appDir: string;
  /**
   * tsc's incremental state, kept between runs: a check with nothing changed re-reads the
   * files but checks none of them (about 2.5 s instead of 8 s for the shop, docs/cli.md).
   */
  readonly buildInfoFile?: string;
}

/**
 * Type-checks the app with its own TypeScript compiler (`typescript/bin/tsc` resolved from
 * the app's folder, else the one next to Carotene) as `tsc --noEmit -p <appDir>`. tsc runs in
 * a process of its own, so the caller can start other work meanwhile. Skipped, with the
 * reason, when the app has no tsconfig.json or no compiler can be found.
 *
 * ```ts
 * const result = await typecheck({ appDir });
 * if (result.status === 'failed') console.error(result.output);
 * ```
 */
export async function typecheck(options: TypecheckOptions): Promise<TypecheckResult> {
  const { appDir, buildInfoFile } = options;
  const tsconfig = join(appDir, 'tsconfig.json');
  if (!existsSync(tsconfig)) return { status: 'skipped', reason: `no tsconfig.json in ${appDir}` };
  const tsc = compilerFor(appDir);
  if (!tsc) return { status: 'skipped', reason: `no TypeScript compiler found from ${appDir} (npm install -D typescript)` };
  const args = [tsc, '--noEmit', '--pretty', 'false', '-p', appDir];
  if (buildInfoFile) {
    await mkdir(dirname(buildInfoFile), { recursive: true });
    args.push('--incremental', '--tsBuildInfoFile', buildInfoFile);
  }
  const started = Date.now();
  const { code, output } = await run(process.execPath, args);
  const ms = Date.now() - started;
  if (code === 0) return { status: 'ok', ms };
  const errors = output.match(/error TS\d+:/g)?.length ?? 0;
  return { status: 'failed', ms, output: output.trimEnd(), errors };
}

/** `typescript/bin/tsc` as the app resolves it, else as Carotene does (the workspace's). */
function compilerFor(appDir: string): string | undefined {
  for (const from of [join(appDir, 'package.json'), import.meta.url]) {
    try {
      return createRequire(from).resolve('typescript/bin/tsc');
    } catch {
      // not installed there: try the next place
    }
  }
  return undefined;
}

function run(command: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    // tsc writes its diagnostics to stdout; stderr carries its crashes
    const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (err) => resolve({ code: null, output: `could not run tsc: ${err.message}` }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** The one line a command prints for a result: what was checked and how long it took. */
export function describeTypecheck(result: TypecheckResult): string {
  if (result.status === 'skipped') return `type check skipped: ${result.reason}`;
  if (result.status === 'ok') return `type-checked in ${(result.ms / 1000).toFixed(1)} s`;
  return `${result.errors} type error${result.errors === 1 ? '' : 's'} (tsc, ${(result.ms / 1000).toFixed(1)} s)`;
}
