import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { PlannedExternal } from './dev-plan.ts';

/** Longest a pre-flight check may run. */
export const CHECK_TIMEOUT_MS = 30_000;

/** Why an external service cannot be started, said for the person at the terminal. */
export interface PreflightProblem {
  readonly service: string;
  readonly message: string;
}

/**
 * Checks every external service before `carrot dev` starts anything: its command must exist
 * and be executable, and its `dev.check` (the command with those arguments) must exit 0.
 * Resolves with one problem per service that fails, in the plan's order.
 *
 * ```ts
 * await preflight(plan.externals); // [{ service: 'recs', message: "…'import grpc' exited with code 1 … hint: apt-get install python3-grpcio" }]
 * ```
 */
export async function preflight(externals: readonly PlannedExternal[], env: NodeJS.ProcessEnv = process.env): Promise<PreflightProblem[]> {
  const answers = await Promise.all(externals.map((e) => checkOne(e, env)));
  return answers.filter((p): p is PreflightProblem => p !== undefined);
}

async function checkOne(e: PlannedExternal, env: NodeJS.ProcessEnv): Promise<PreflightProblem | undefined> {
  const where = `external service '${e.service}'`;
  const hint = e.check ? `; ${e.check.hint}` : '';
  if (!(await isDirectory(e.cwd))) return { service: e.service, message: `${where}: its folder ${e.cwd} (dev.cwd) does not exist` };
  const program = await findProgram(e.command, e.cwd, env.PATH ?? '');
  if (!program) {
    const how = e.command.includes('/') ? 'does not exist or is not executable' : 'is not on PATH';
    return { service: e.service, message: `${where}: its command '${e.command}' (dev.command) ${how}${hint}` };
  }
  if (!e.check) return undefined;
  const shown = [e.command, ...e.check.args.map(quote)].join(' ');
  const failure = await run(program, e.check.args, e.cwd, env);
  if (!failure) return undefined;
  return { service: e.service, message: `${where}: its pre-flight check \`${shown}\` ${failure}; ${e.check.hint}` };
}

/** Why the check failed (`exited with code 1: ModuleNotFoundError: …`), or undefined when it passed. */
function run(program: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return new Promise((resolveRun) => {
    execFile(program, [...args], { cwd, env, timeout: CHECK_TIMEOUT_MS, maxBuffer: 1024 * 1024 }, (err, _stdout, stderr) => {
      if (!err) return resolveRun(undefined);
      const last = stderr
        .trim()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .at(-1);
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string; signal?: string | null };
      const how = e.killed
        ? `did not finish within ${CHECK_TIMEOUT_MS / 1_000} s`
        : typeof e.code === 'number'
          ? `exited with code ${e.code}`
          : `failed (${e.code ?? e.message})`;
      resolveRun(last ? `${how}: ${last.trim()}` : how);
    });
  });
}

async function findProgram(command: string, cwd: string, path: string): Promise<string | undefined> {
  const candidates = command.includes('/')
    ? [isAbsolute(command) ? command : resolve(cwd, command)]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, command));
  for (const file of candidates) {
    try {
      await access(file, constants.X_OK);
      if ((await stat(file)).isFile()) return file;
    } catch {
      // not this one
    }
  }
  return undefined;
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/(["\\$`])/g, '\\$1')}"`;
}
