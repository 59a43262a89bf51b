import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findAppFile, loadApp } from '../app-module.ts';
import { CliError, parseOrUsage, UsageError, type CliIo, type Command } from '../command.ts';
import { GATEWAY_MAIN, MIGRATE_MAIN, RUNTIME_MAIN } from '../dev-plan.ts';
import { bundleProcesses } from '../process-bundle.ts';
import { shownPath } from '../shown-path.ts';

/** What `carrot bundle` writes, `<name>.mjs` each: the entries a container runs (build/dockerfile.ts). */
const ENTRIES = { service: RUNTIME_MAIN, gateway: GATEWAY_MAIN, migrate: MIGRATE_MAIN };

const USAGE = `Usage: carrot bundle [appDir] --out <dir>

Bundles the app with Carotene's process entries into plain JavaScript, the way 'carrot dev'
starts its processes: no TypeScript loader at run time, a third of the start-up and less
memory per process. The image 'carrot build' generates runs it in its build stage.

  <dir>/service.mjs   one service (CAROTENE_SERVICE says which)
  <dir>/gateway.mjs   the gateway
  <dir>/migrate.mjs   applies one service's migrations and exits

Run them with 'node --enable-source-maps <dir>/<file>' from the same folder layout: native
packages (better-sqlite3, pg) stay in node_modules and are imported by absolute path.

Arguments:
  appDir         Folder with app.ts or carotene.app.ts, or the app module (default .)

Options:
  --out <dir>    Where to write the bundles (required; replaced if it exists)
  -h, --help     Show this help`;

export const bundle: Command = {
  name: 'bundle',
  summary: 'Bundle the app into plain JavaScript for containers',
  usage: USAGE,
  run: runBundle,
};

async function runBundle(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOrUsage(() => parseArgs({ args: [...argv], allowPositionals: true, options: { out: { type: 'string' } } }));
  if (positionals.length > 1) throw new UsageError(`expected one app folder, got ${positionals.length}`);
  if (!values.out) throw new UsageError('--out <dir> is required');
  const appFile = findAppFile(positionals[0] ?? '.');
  // the app must load before it is worth bundling: its declaration errors read better here
  const app = await loadApp(appFile);
  const out = resolve(values.out);
  // a build of its own, not the dev cache: what goes into an image is built from what is there now
  const cacheDir = mkdtempSync(join(tmpdir(), 'carotene-bundle-'));
  try {
    let files: Record<string, string>;
    try {
      files = await bundleProcesses({ appFile, cacheDir, entries: ENTRIES });
    } catch (err) {
      throw new CliError(`carrot bundle: could not bundle '${app.name}': ${(err as Error).message.split('\n')[0]}`);
    }
    rmSync(out, { recursive: true, force: true });
    mkdirSync(dirname(out), { recursive: true });
    cpSync(dirname(files.service!), out, { recursive: true });
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
  io.out(
    `carrot bundle: wrote ${Object.keys(ENTRIES)
      .map((name) => `${name}.mjs`)
      .join(', ')} of '${app.name}' to ${shownPath(out)}`,
  );
  return 0;
}
