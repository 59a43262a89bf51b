import { createHash } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import type { DevPlan } from './dev-plan.ts';

/** The entry modules a child process of `carrot dev` may run. */
export interface ProcessEntries {
  readonly [name: string]: string;
}

/**
 * Bundles each process entry of `carrot dev` together with the app into plain JavaScript,
 * once per start, so a child runs `node <bundle>` instead of `node --import tsx <entry>`:
 * no TypeScript loader hooks on every import, no esbuild helper process per child. That
 * halves a service's start-up and takes ~50 MB off its memory (docs/benchmarks.md).
 *
 * The app module is imported statically and handed to `loadApp` through `preloadApp`, so
 * the runtime's own entry files stay exactly what a container runs. npm packages stay
 * outside the bundle, imported by absolute path (a native addon cannot be bundled, and the
 * bundle may live in a temporary data folder where no `node_modules` is found by walking up).
 *
 * ```ts
 * const files = await bundleProcesses({ appFile, outDir: join(dataDir, 'bundle'), entries: { service: RUNTIME_MAIN } });
 * spawn(process.execPath, ['--enable-source-maps', files.service]);
 * ```
 */
export async function bundleProcesses(options: { appFile: string; outDir: string; entries: ProcessEntries }): Promise<Record<string, string>> {
  const { appFile, outDir, entries } = options;
  // a fresh folder per start: chunk names carry content hashes, old chunks would pile up
  const dir = join(outDir, createHash('sha256').update(`${appFile}\0${Date.now()}\0${process.pid}`).digest('hex').slice(0, 12));
  await removeOldBundles(outDir);
  await mkdir(dir, { recursive: true });
  const loadApp = new URL('../runtime/load-app.ts', import.meta.url).pathname;
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
  await build({
    entryPoints: Object.keys(entries).map((name) => ({ in: `carotene-entry:${name}`, out: name })),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // resolve packages as Node does: esbuild's default `module` condition picks builds meant
    // for bundlers (e.g. @opentelemetry/api's extension-less ESM), which Node cannot load
    conditions: [],
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    sourcemap: true,
    logLevel: 'silent',
    plugins: [entryPlugin, packagesByAbsolutePath],
  });
  return Object.fromEntries(Object.keys(entries).map((name) => [name, join(dir, `${name}.mjs`)]));
}

/**
 * npm packages stay external, but as absolute file URLs: the bundle is imported from a data
 * folder that may have no `node_modules` above it. The `carotene` workspace package is
 * TypeScript source, so it is bundled like the app.
 */
const packagesByAbsolutePath: Plugin = {
  name: 'carotene-external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === 'resolving' || args.namespace === 'carotene-entry' || args.path.startsWith('node:')) return undefined;
      if (args.path === 'carotene' || args.path.startsWith('carotene/')) return undefined;
      const resolved = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'resolving' });
      if (resolved.errors.length > 0 || !resolved.path) return undefined;
      return { path: pathToFileURL(resolved.path).href, external: true };
    });
  },
};

/** Bundles of earlier starts; a running `carrot dev` for the same folder is not expected. */
async function removeOldBundles(outDir: string): Promise<void> {
  const old = await readdir(outDir).catch(() => [] as string[]);
  await Promise.all(old.map((name) => rm(join(outDir, name), { recursive: true, force: true })));
}

/**
 * The plan with every child that runs a Carotene entry under tsx (`--import <tsx> <entry>`)
 * switched to `node --enable-source-maps <bundle>`. When bundling fails (an app module esbuild
 * cannot bundle), the plan is returned unchanged with the reason, and the children run under tsx.
 */
export async function bundledPlan(plan: DevPlan, appFile: string, dataDir: string): Promise<{ plan: DevPlan; fallback?: string }> {
  const entryOf = (args: readonly string[]) => (args[0] === '--import' && args.length === 3 ? args[2] : undefined);
  const unique = [...new Set(plan.specs.map((spec) => entryOf(spec.args)).filter((e) => e !== undefined))];
  const names = new Map(unique.map((entry, i) => [entry, `process-${i}`]));
  let files: Record<string, string>;
  try {
    files = await bundleProcesses({ appFile, outDir: join(dataDir, 'bundle'), entries: Object.fromEntries([...names].map(([entry, name]) => [name, entry])) });
  } catch (err) {
    return { plan, fallback: (err as Error).message.split('\n')[0] ?? String(err) };
  }
  const specs = plan.specs.map((spec) => {
    const entry = entryOf(spec.args);
    const file = entry === undefined ? undefined : files[names.get(entry)!];
    return file ? { ...spec, args: ['--enable-source-maps', file] } : spec;
  });
  return { plan: { ...plan, specs } };
}
