import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isCaroteneError } from 'carotene/model';
import { parseSnapshot, SNAPSHOT_FILE, type SnapshotHistory, withRelease } from '../../build/contract-snapshot.ts';
import { PROTO_DIR } from '../../build/contract-protos.ts';
import { findAppFile, loadApp } from '../app-module.ts';
import { CliError, parseOrUsage, UsageError, type CliIo, type Command } from '../command.ts';
import { refreshProtoDir } from '../proto-dir.ts';
import { shownPath } from '../shown-path.ts';

const USAGE = `Usage: carrot contracts snapshot [appDir] [options]
       carrot contracts proto [appDir] [--check]

snapshot  Adds the app's current contracts as the next release to ${SNAPSHOT_FILE} beside the
          app module (every function's input and output schema, error codes, every event's
          data schema as JSON Schema, and each one's compatibility mode); every earlier
          release stays in the file. Commit it: from then on 'carrot build' refuses a change
          since the last release that the contract's or event's declared compatibility
          (backward by default, forward, full or none) does not allow. Take a snapshot when
          you release.

proto     Writes <appDir>/${PROTO_DIR}/<contract>.proto, .lock.json and .schema.json for every
          contract of the app (its services' and those they integrate with): the protobuf
          that other languages generate stubs from, the field numbers (new fields get the
          next unused number; a removed field's number is reserved, never reused) and each
          function's JSON Schema. Commit the folder. Output is deterministic.

Arguments:
  appDir         Folder with app.ts or carotene.app.ts, or the app module (default .)

Options:
  --out <file>   snapshot: where to write it (default <appDir>/${SNAPSHOT_FILE})
  --check        proto: write nothing; exit 1 listing the files that are out of date (for CI)
  -h, --help     Show this help`;

export const contracts: Command = {
  name: 'contracts',
  summary: 'Save a snapshot of the contracts for carrot build, or write their protobuf files',
  usage: USAGE,
  run: runContracts,
};

async function runContracts(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOrUsage(() =>
    parseArgs({ args: [...argv], allowPositionals: true, options: { out: { type: 'string' }, check: { type: 'boolean' } } }),
  );
  const [action, target, ...rest] = positionals;
  if (action !== 'snapshot' && action !== 'proto')
    throw new UsageError(action === undefined ? 'expected a sub-command: snapshot or proto' : `unknown sub-command '${action}'; expected snapshot or proto`);
  if (rest.length > 0) throw new UsageError(`expected one app folder, got ${rest.length + 1}`);
  if (action === 'snapshot' && values.check) throw new UsageError('--check goes with proto, not snapshot');
  if (action === 'proto' && values.out !== undefined) throw new UsageError('--out goes with snapshot, not proto');
  const appFile = findAppFile(target ?? '.');
  const app = await loadApp(appFile);
  if (action === 'proto') {
    const dir = join(dirname(appFile), PROTO_DIR);
    let state: Awaited<ReturnType<typeof refreshProtoDir>>;
    try {
      state = await refreshProtoDir(app, dir, { check: values.check ?? false });
    } catch (err) {
      if (isCaroteneError(err, 'INVALID_CONFIG')) throw new CliError(err.message);
      throw err;
    }
    if (values.check) {
      if (state.outdated.length === 0) {
        io.out(`carrot contracts: ${shownPath(dir)} is up to date (${state.files.length} files)`);
        return 0;
      }
      for (const name of state.outdated) io.err(`  out of date: ${shownPath(join(dir, name))}`);
      io.err(
        `carrot contracts: ${state.outdated.length} of ${state.files.length} files in ${shownPath(dir)} are out of date; run 'carrot contracts proto' and commit them`,
      );
      return 1;
    }
    const fresh = state.files.length - state.outdated.length;
    io.out(`carrot contracts: wrote ${state.outdated.length} files to ${shownPath(dir)}${fresh > 0 ? ` (${fresh} were up to date)` : ''}`);
    return 0;
  }
  const file = resolve(values.out ?? join(dirname(appFile), SNAPSHOT_FILE));
  let saved: SnapshotHistory | undefined;
  if (existsSync(file)) {
    try {
      saved = parseSnapshot(await readFile(file, 'utf8'), shownPath(file));
    } catch (err) {
      throw new CliError(`${(err as Error).message}; move it away to start a new history`);
    }
  }
  const { history, added } = withRelease(saved, app);
  const last = history.releases.at(-1)!;
  if (!added) {
    io.out(`carrot contracts: ${shownPath(file)} already holds this state as release ${last.release}`);
    return 0;
  }
  await writeFile(file, `${JSON.stringify(history, null, 2)}\n`);
  const functions = Object.values(last.services).reduce((n, s) => n + Object.keys(s.functions).length, 0);
  io.out(
    `carrot contracts: saved ${Object.keys(last.services).length} services, ${functions} functions of '${app.name}' as release ${last.release} to ${shownPath(file)}`,
  );
  return 0;
}
