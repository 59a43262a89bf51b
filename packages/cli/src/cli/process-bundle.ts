import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, version as esbuildVersion, type Plugin } from 'esbuild';
import { BundleCache, defaultCacheDir } from './bundle-cache.ts';
import type { DevPlan } from './dev-plan.ts';
import { CONDITIONS, entryFile } from './entries.ts';

/** The entry modules a child process of `carrot dev` may run. */
export interface ProcessEntries {
  readonly [name: string]: string;
}

/**
 * Packages left outside the bundle, imported from `node_modules` by absolute path: a native
 * addon (better-sqlite3), optional native parts (pg), worker files found by path (pino's
 * transports), and what only a rare configuration loads (NATS JetStream).
 */
const EXTERNAL_PACKAGES = /^(better-sqlite3|pg|pg-native|pino|@nats-io\/[^/]+)(\/|$)/;

/** Changes whenever the build options below do, so a cache of older builds is not reused. */
const BUILD_FORMAT = 'carotene-process-bundle/2';

/**
 * Bundles each process entry of `carrot dev` together with the app and the npm packages they
 * import into minified JavaScript, so a child runs `node <bundle>` instead of
 * `node --import tsx <entry>`: no TypeScript loader hooks, no esbuild helper process per child,
 * no module resolution and CommonJS export scanning for hundreds of package files. A service
 * starts in about a third of the time and with ~25 MB less memory (docs/cli.md).
 *
 * Builds are cached across runs, keyed by the content of every file read (see
 * {@link BundleCache}): a start with unchanged code skips esbuild entirely.
 *
 * The app module is imported statically and handed to `loadApp` through `preloadApp`, so
 * the runtime's own entry files stay exactly what a container runs.
 *
 * ```ts
 * const files = await bundleProcesses({ appFile, cacheDir: defaultCacheDir(appFile), entries: { service: RUNTIME_MAIN } });
 * spawn(process.execPath, ['--enable-source-maps', files.service]);
 * ```
 */
export async function bundleProcesses(options: { appFile: string; cacheDir: string; entries: ProcessEntries }): Promise<Record<string, string>> {
  const { appFile, entries } = options;
  const cache = new BundleCache(options.cacheDir, JSON.stringify([BUILD_FORMAT, esbuildVersion, appFile, entries]));
  return (await cache.lookup()) ?? (await cache.store((dir) => buildInto(dir, appFile, entries)));
}

async function buildInto(dir: string, appFile: string, entries: ProcessEntries): Promise<{ files: Record<string, string>; inputs: string[] }> {
  const loadApp = entryFile('@carotene/runtime/service');
  const virtual = (entry: string) =>
    [
      `import * as app from ${JSON.stringify(appFile)};`,
      `import { preloadApp } from ${JSON.stringify(loadApp)};`,
      `preloadApp(${JSON.stringify(appFile)}, app);`,
      `await import(${JSON.stringify(entry)});`,
    ].join('\n');
  const entryPlugin: Plugin = {
    name: 'carotene-process-entries',
    setup(b) {
      b.onResolve({ filter: /^carotene-entry:/ }, (args) => ({ path: args.path.slice('carotene-entry:'.length), namespace: 'carotene-entry' }));
      b.onLoad({ filter: /.*/, namespace: 'carotene-entry' }, (args) => ({ contents: virtual(entries[args.path]!), loader: 'ts', resolveDir: process.cwd() }));
    },
  };
  const result = await build({
    entryPoints: Object.keys(entries).map((name) => ({ in: `carotene-entry:${name}`, out: name })),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // resolve packages as Node does: esbuild's default `module` condition picks builds meant
    // for bundlers (e.g. @opentelemetry/api's extension-less ESM), which Node cannot load
    conditions: [...CONDITIONS],
    mainFields: ['main', 'module'],
    // bundled CommonJS packages `require()` Node's modules: give every chunk a require
    banner: { js: "import { createRequire as __caroteneRequire } from 'node:module'; const require = __caroteneRequire(import.meta.url);" },
    // V8 keeps every script's source in memory: minified, a process is ~6 MB lighter
    minify: true,
    keepNames: true,
    // stack traces still name the original files and lines; the sources stay on disk
    sourcemap: true,
    sourcesContent: false,
    metafile: true,
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    logLevel: 'silent',
    plugins: [entryPlugin, externalPackages],
  });
  const inputs = Object.keys(result.metafile.inputs)
    .filter((file) => !file.includes(':'))
    .map((file) => resolve(file));
  return { files: Object.fromEntries(Object.keys(entries).map((name) => [name, `${name}.mjs`])), inputs };
}

/**
 * The packages of {@link EXTERNAL_PACKAGES} stay external, by absolute path: the bundle lives
 * in a cache folder that may have no `node_modules` above it. `import` gets a file URL,
 * `require()` (from a bundled CommonJS package) a file path.
 */
const externalPackages: Plugin = {
  name: 'carotene-external-packages',
  setup(b) {
    b.onResolve({ filter: EXTERNAL_PACKAGES }, async (args) => {
      if (args.pluginData === 'resolving' || args.namespace === 'carotene-entry') return undefined;
      const resolved = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'resolving' });
      if (resolved.errors.length > 0 || !resolved.path) return undefined;
      return { path: args.kind === 'require-call' ? resolved.path : pathToFileURL(resolved.path).href, external: true };
    });
  },
};

/** Bundled files by the entry module they stand for, or why bundling failed. */
export type ProcessBundle = { readonly files: ReadonlyMap<string, string> } | { readonly fallback: string };

/**
 * Bundles every entry module in `entries` with the app (see {@link bundleProcesses}). Never
 * rejects: when esbuild cannot bundle the app, resolves with the reason, and the children run
 * under tsx. `carrot dev` starts this first, so it overlaps loading the app and the dashboard.
 */
export async function bundleEntries(appFile: string, entries: readonly string[], cacheDir = defaultCacheDir(appFile)): Promise<ProcessBundle> {
  const names = entries.map((_, i) => `process-${i}`);
  try {
    const files = await bundleProcesses({ appFile, cacheDir, entries: Object.fromEntries(entries.map((entry, i) => [names[i]!, entry])) });
    return { files: new Map(entries.map((entry, i) => [entry, files[names[i]!]!])) };
  } catch (err) {
    return { fallback: (err as Error).message.split('\n')[0] ?? String(err) };
  }
}

/**
 * The plan with every child that runs a bundled entry under tsx (`--import <tsx> <entry>`)
 * switched to `node --enable-source-maps <bundle>`. After a failed bundle, the plan is
 * returned unchanged with the reason.
 */
export function bundledPlan(plan: DevPlan, bundle: ProcessBundle): { plan: DevPlan; fallback?: string } {
  if ('fallback' in bundle) return { plan, fallback: bundle.fallback };
  const entryOf = (args: readonly string[]) => (args[0] === '--import' && args.length === 3 ? args[2] : undefined);
  const specs = plan.specs.map((spec) => {
    const entry = entryOf(spec.args);
    const file = entry === undefined ? undefined : bundle.files.get(entry);
    return file ? { ...spec, args: ['--enable-source-maps', file] } : spec;
  });
  return { plan: { ...plan, specs } };
}
