import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SNAPSHOT_FILE, snapshotContracts } from '../../build/contract-snapshot.ts';
import { findAppFile, loadApp } from '../app-module.ts';
import { parseOrUsage, UsageError, type CliIo, type Command } from '../command.ts';
import { shownPath } from '../shown-path.ts';

const USAGE = `Usage: carrot contracts snapshot [appDir] [options]

Saves every function's input and output schema, error codes and every event's data
schema (as JSON Schema) to ${SNAPSHOT_FILE} beside the app module. Commit it: from then
on 'carrot build' refuses a change that breaks a caller (a removed function or field, a
field made required, a narrowed input or a widened output). Take a new snapshot when you
release a change on purpose.

Arguments:
  appDir         Folder with app.ts or carotene.app.ts, or the app module (default .)

Options:
  --out <file>   Where to write it (default <appDir>/${SNAPSHOT_FILE})
  -h, --help     Show this help`;

export const contracts: Command = {
  name: 'contracts',
  summary: 'Save a snapshot of the contracts that carrot build checks changes against',
  usage: USAGE,
  run: runContracts,
};

async function runContracts(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOrUsage(() => parseArgs({ args: [...argv], allowPositionals: true, options: { out: { type: 'string' } } }));
  const [action, target, ...rest] = positionals;
  if (action !== 'snapshot')
    throw new UsageError(action === undefined ? 'expected a sub-command: snapshot' : `unknown sub-command '${action}'; expected snapshot`);
  if (rest.length > 0) throw new UsageError(`expected one app folder, got ${rest.length + 1}`);
  const appFile = findAppFile(target ?? '.');
  const app = await loadApp(appFile);
  const file = resolve(values.out ?? join(dirname(appFile), SNAPSHOT_FILE));
  const snapshot = snapshotContracts(app);
  await writeFile(file, `${JSON.stringify(snapshot, null, 2)}\n`);
  const functions = Object.values(snapshot.services).reduce((n, s) => n + Object.keys(s.functions).length, 0);
  io.out(`carrot contracts: saved ${Object.keys(snapshot.services).length} services, ${functions} functions of '${app.name}' to ${shownPath(file)}`);
  return 0;
}
