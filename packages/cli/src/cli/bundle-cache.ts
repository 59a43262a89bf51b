import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** What a cached build recorded: the files it read (with their content hashes) and what it wrote. */
interface Manifest {
  readonly inputs: Readonly<Record<string, string | undefined>>;
  readonly build: string;
  readonly files: Readonly<Record<string, string>>;
}

/** Builds kept per slot: a `carrot dev` still running an older one keeps its files for a while. */
const KEEP_BUILDS = 3;

/**
 * Build outputs kept across runs, keyed by the content of every file the build read. A slot
 * (one app and set of entries) holds the last few builds and a manifest naming the newest;
 * it is reused when every input still has the same content hash, and rebuilt otherwise.
 *
 * ```ts
 * const cache = new BundleCache(defaultCacheDir(appFile), 'shop:service,gateway');
 * const files = (await cache.lookup()) ?? (await cache.store(async (dir) => build(dir)));
 * ```
 */
export class BundleCache {
  readonly #slot: string;

  constructor(root: string, key: string) {
    this.#slot = join(root, sha256(key).slice(0, 16));
  }

  /** The files of the newest build when none of its inputs changed; undefined otherwise. */
  async lookup(): Promise<Record<string, string> | undefined> {
    let manifest: Manifest;
    try {
      manifest = JSON.parse(await readFile(join(this.#slot, 'manifest.json'), 'utf8')) as Manifest;
    } catch {
      return undefined;
    }
    const dir = join(this.#slot, manifest.build);
    const files = Object.fromEntries(Object.entries(manifest.files).map(([name, file]) => [name, join(dir, file)]));
    if (!Object.values(files).every((file) => existsSync(file))) return undefined;
    const current = await Promise.all(Object.entries(manifest.inputs).map(async ([file, hash]) => (await hashFile(file)) === hash));
    return current.every(Boolean) ? files : undefined;
  }

  /**
   * Runs `build` into a fresh folder of the slot, records its inputs, and returns its files.
   * `build` resolves with the output file of each entry (relative to the folder) and the
   * absolute paths of every file it read.
   */
  async store(build: (dir: string) => Promise<{ files: Record<string, string>; inputs: readonly string[] }>): Promise<Record<string, string>> {
    const startedMs = Date.now();
    const name = `${startedMs.toString(36)}-${randomBytes(4).toString('hex')}`;
    const dir = join(this.#slot, name);
    await mkdir(dir, { recursive: true });
    let result: { files: Record<string, string>; inputs: readonly string[] };
    try {
      result = await build(dir);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    const files = Object.fromEntries(Object.entries(result.files).map(([entry, file]) => [entry, join(dir, file)]));
    // a file saved while esbuild read it: this build serves this start, but is not reused
    if (await changedSince(result.inputs, startedMs)) return files;
    const hashes = await Promise.all(result.inputs.map(async (file) => [file, await hashFile(file)] as const));
    const manifest: Manifest = { inputs: Object.fromEntries(hashes), build: name, files: result.files };
    // readers never see half a manifest
    const tmp = join(this.#slot, `manifest.${process.pid}.${name}.tmp`);
    await writeFile(tmp, JSON.stringify(manifest));
    await rename(tmp, join(this.#slot, 'manifest.json'));
    await this.#prune();
    return files;
  }

  /** Removes all but the newest few builds of the slot. */
  async #prune(): Promise<void> {
    const entries = await readdir(this.#slot, { withFileTypes: true });
    const builds = await Promise.all(
      entries.filter((e) => e.isDirectory()).map(async (e) => ({ path: join(this.#slot, e.name), mtime: (await stat(join(this.#slot, e.name))).mtimeMs })),
    );
    builds.sort((a, b) => b.mtime - a.mtime);
    await Promise.all(builds.slice(KEEP_BUILDS).map((b) => rm(b.path, { recursive: true, force: true })));
  }
}

/** Names the folder of `carrot dev`'s bundle cache, instead of the default below. */
export const BUNDLE_CACHE_ENV = 'CAROTENE_BUNDLE_CACHE';

/**
 * Where `carrot dev` keeps its bundles: `$CAROTENE_BUNDLE_CACHE` when set, else
 * `node_modules/.cache/carotene/bundles` of the nearest folder above the app that has a
 * `node_modules` (the convention of babel-loader, ESLint and AVA), else the system's
 * temporary folder.
 */
export function defaultCacheDir(appFile: string, env: NodeJS.ProcessEnv = process.env): string {
  const given = env[BUNDLE_CACHE_ENV];
  if (given) return resolve(given);
  for (let dir = dirname(appFile); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) return join(dir, 'node_modules', '.cache', 'carotene', 'bundles');
    if (dirname(dir) === dir) return join(tmpdir(), 'carotene-bundles');
  }
}

async function changedSince(files: readonly string[], sinceMs: number): Promise<boolean> {
  const times = await Promise.all(
    files.map((file) =>
      stat(file).then(
        (s) => s.mtimeMs,
        () => Number.POSITIVE_INFINITY,
      ),
    ),
  );
  // mtimes are coarser than the clock on some file systems: a second of slack
  return times.some((mtime) => mtime >= sinceMs - 1_000);
}

async function hashFile(file: string): Promise<string | undefined> {
  try {
    return sha256(await readFile(file));
  } catch {
    // a deleted input is a changed one
    return undefined;
  }
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
