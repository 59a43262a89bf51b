import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AppDef } from '../declare/app.ts';
import { CliError } from './command.ts';

/** File names looked for in an app folder, in order. */
export const APP_FILES = ['app.ts', 'carotene.app.ts'] as const;

/**
 * The app module of `target`: the file itself when `target` is a file, otherwise the
 * first of {@link APP_FILES} inside it.
 */
export function findAppFile(target: string): string {
  const path = resolve(target);
  if (!existsSync(path)) throw new CliError(`${path} does not exist; pass the folder of your app (the one with app.ts)`);
  if (statSync(path).isFile()) return path;
  for (const name of APP_FILES) {
    const file = join(path, name);
    if (existsSync(file)) return file;
  }
  throw new CliError(`no app module in ${path}: expected ${APP_FILES.join(' or ')} with \`export default app({...})\``);
}

/** Imports the app module and checks that its default export is an `app({...})`. */
export async function loadApp(file: string): Promise<AppDef> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    throw new CliError(`could not load ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isAppDef(mod.default)) {
    throw new CliError(`${file} must \`export default app({...})\`; its default export is ${describe(mod.default)}`);
  }
  return mod.default;
}

function isAppDef(value: unknown): value is AppDef {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<AppDef>;
  return v.kind === 'app' && typeof v.name === 'string' && Array.isArray(v.services);
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  const kind = (value as { kind?: unknown }).kind;
  if (typeof kind === 'string') return `a ${kind} declaration, not an app`;
  return `a ${typeof value}, not an app`;
}
