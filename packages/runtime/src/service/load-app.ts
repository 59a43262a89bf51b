import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { AppDef } from 'carotene/model';
import { platformError } from 'carotene/model';
import type { Registry } from '../transport/transport.ts';

/** App modules bundled into the process (see the CLI's process bundle), by file path. */
const preloaded = new Map<string, { default?: unknown }>();

/** Hands `loadApp` an app module imported already, so it is not imported again by path. */
export function preloadApp(file: string, mod: { default?: unknown }): void {
  preloaded.set(file, mod);
}

/** Imports an app module and checks that its default export is `app({...})`. */
export async function loadApp(file: string): Promise<AppDef> {
  let mod: { default?: unknown };
  try {
    mod = preloaded.get(file) ?? ((await import(pathToFileURL(file).href)) as { default?: unknown });
  } catch (err) {
    throw platformError('INVALID_CONFIG', `could not load the app module ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!isAppDef(mod.default)) {
    throw platformError('INVALID_CONFIG', `${file} must \`export default app({...})\`; its default export is ${describe(mod.default)}`);
  }
  return mod.default;
}

/** Reads the registry `carrot dev` writes: where every service of the app listens. */
export async function readRegistry(file: string): Promise<Registry> {
  let body: unknown;
  try {
    body = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw platformError('INVALID_CONFIG', `could not read the registry ${file}: ${(err as Error).message}`, { cause: err });
  }
  const services = (body as { services?: unknown } | null)?.services;
  if (typeof services !== 'object' || services === null) {
    throw platformError('INVALID_CONFIG', `registry ${file} has no 'services' object (it is written by 'carrot dev')`);
  }
  return body as Registry;
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
