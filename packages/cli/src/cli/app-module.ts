import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AppDef } from 'carotene/model';
import { loadApp as loadAppModule } from '@carotene/runtime/service';
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

/** Imports the app module (see the runtime's `loadApp`), as a CLI error when it is not an app. */
export async function loadApp(file: string): Promise<AppDef> {
  try {
    return await loadAppModule(file);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}
