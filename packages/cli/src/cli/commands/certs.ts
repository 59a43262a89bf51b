import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { certsDir } from '@carotene/runtime/security';
import { ensureCertificates, hostNames, rotateCertificates } from '@carotene/runtime/security';
import { findAppFile, loadApp } from '../app-module.ts';
import { CliError, parseOrUsage, UsageError, type CliIo, type Command } from '../command.ts';
import { identitiesOf } from '../dev-plan.ts';

const USAGE = `Usage: carrot certs rotate [appDir] [options]

Issues a new certificate authority and a new certificate for every service, the gateway
and carrot itself, without downtime: running processes trust the new and the previous CA
first, then reload their own certificates as the files change. Calls in flight carry on.

Arguments:
  appDir             Folder with app.ts or carotene.app.ts (default .)

Options:
  --data-dir <d>     The app's data folder (default <appDir>/.carotene)
  --settle-ms <n>    Pause between trusting the new CA and switching certificates (default 2000)
  -h, --help         Show this help`;

export const certs: Command = {
  name: 'certs',
  summary: 'Rotate the certificates of an app (certs rotate)',
  usage: USAGE,
  run: runCerts,
};

async function runCerts(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOrUsage(() =>
    parseArgs({ args: [...argv], allowPositionals: true, options: { 'data-dir': { type: 'string' }, 'settle-ms': { type: 'string' } } }),
  );
  const [action, target, ...rest] = positionals;
  if (action !== 'rotate') throw new UsageError(action === undefined ? 'expected a sub-command: rotate' : `unknown sub-command '${action}'; expected rotate`);
  if (rest.length > 0) throw new UsageError(`expected one app folder, got ${rest.length + 1}`);
  const settleMs = values['settle-ms'] === undefined ? 2_000 : Number(values['settle-ms']);
  if (!Number.isInteger(settleMs) || settleMs < 0) throw new UsageError(`--settle-ms must be a whole number of milliseconds, got '${values['settle-ms']}'`);

  const appFile = findAppFile(target ?? '.');
  const app = await loadApp(appFile);
  const dataDir = resolve(values['data-dir'] ?? join(dirname(appFile), '.carotene'));
  if (!existsSync(join(certsDir(dataDir), 'ca', 'ca.key'))) {
    throw new CliError(`no certificate authority in ${certsDir(dataDir)}: 'carrot dev' creates it on its first run`);
  }
  io.out(`carrot certs: rotating the certificates of '${app.name}' in ${certsDir(dataDir)}`);
  // every certificate answers to localhost too, as `carrot dev` issues them
  const names = (identity: string) => hostNames(identity, { local: true });
  const { identities } = await rotateCertificates(dataDir, app.name, { settleMs, print: (line) => io.out(`  ${line}`), names });
  // identities the app gained since the last run get theirs too
  const added = (await ensureCertificates(dataDir, app.name, identitiesOf(app), { names })).issued;
  for (const identity of added) io.out(`  issued ${identity}`);
  io.out(`carrot certs: done (${identities.length + added.length} certificates); running processes reload them on their own`);
  return 0;
}
