import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from './command.ts';

const own = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; dependencies: Record<string, string> };

/** Every Carotene package moves in step: this CLI's version is the version of all of them. */
export const CAROTENE_VERSION = own.version;

/** What a new app depends on directly; the runtime and the gateway come with the CLI. */
const CORE = ['carotene', '@carotene/runtime', '@carotene/gateway', '@carotene/testing', '@carotene/cli'] as const;

/** `carotene-runtime-0.2.0.tgz` (npm pack of `@carotene/runtime`) → `@carotene/runtime`. */
export function packageOfTarball(file: string): string | undefined {
  const m = /^carotene(?:-([a-z]+))?-(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\.tgz$/.exec(file);
  if (!m) return undefined;
  return m[1] ? `@carotene/${m[1]}` : 'carotene';
}

/** The Carotene tarballs in `folder` by package, refusing a folder that lacks one the app needs. */
export function packageTarballs(folder: string): Map<string, string> {
  let files: string[];
  try {
    files = readdirSync(folder);
  } catch {
    throw new CliError(`--packages ${folder}: no such folder`);
  }
  const found = new Map<string, string>();
  for (const file of files.sort()) {
    const pkg = packageOfTarball(file);
    if (pkg) found.set(pkg, join(folder, file));
  }
  const missing = CORE.filter((p) => !found.has(p));
  if (missing.length > 0) throw new CliError(`--packages ${folder}: no tarball of ${missing.join(', ')} (make them with npm pack)`);
  return found;
}

/**
 * Writes the new app's package.json. From the registry, Carotene's packages are plain
 * versions; from tarballs (`vendored`), each is a `file:` spec, and `overrides` makes the
 * packages' dependencies on each other resolve to the same files instead of the registry.
 */
export function appManifest(dir: string, name: string, vendored?: ReadonlyMap<string, string>): string {
  const spec = (pkg: string) => vendored?.get(pkg) ?? CAROTENE_VERSION;
  const manifest = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '>=20.18' },
    scripts: {
      dev: 'carrot dev .',
      test: 'tsc -p . && node --import tsx --test services/*/*.test.ts',
      build: 'carrot build . --env production',
      typecheck: 'tsc -p .',
    },
    // the CLI is a dependency, not a dev one: the image's build stage bundles the app with it
    dependencies: { '@carotene/cli': spec('@carotene/cli'), carotene: spec('carotene'), zod: own.dependencies.zod },
    devDependencies: { '@carotene/testing': spec('@carotene/testing'), '@types/node': '^20.19.0', tsx: own.dependencies.tsx, typescript: '~5.9.3' },
    // npm runs a dependency's install scripts only when the app allows them: better-sqlite3
    // builds its native addon, esbuild (for carrot bundle) checks its platform binary
    allowScripts: { 'better-sqlite3': true, esbuild: true },
    ...(vendored ? { overrides: Object.fromEntries(CORE.map((p) => [p, spec(p)])) } : {}),
  };
  const file = join(dir, 'package.json');
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  return file;
}
