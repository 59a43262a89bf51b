import { pathToFileURL } from 'node:url';
import type { AppDef } from '../declare/app.ts';
import { platformError } from '../errors.ts';

/** Imports an app module and checks that its default export is `app({...})`. */
export async function loadApp(file: string): Promise<AppDef> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    throw platformError('INVALID_CONFIG', `could not load the app module ${file}: ${(err as Error).message}`, { cause: err });
  }
  const app = mod.default as Partial<AppDef> | undefined;
  if (!app || app.kind !== 'app') throw platformError('INVALID_CONFIG', `${file} must export default app({...})`);
  return app as AppDef;
}
