import { implementedServices } from 'carotene/model';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AppDef } from 'carotene/model';
import { listDeadLetters, replayDeadLetters } from '@carotene/runtime/events';
import { migrateEventTables } from '@carotene/runtime/events';
import { sqliteFile } from '@carotene/runtime/service';
import { openStore, type StoreDriver } from '@carotene/runtime/store';
import { findAppFile, loadApp } from '../app-module.ts';
import { CliError, parseOrUsage, UsageError, type CliIo, type Command } from '../command.ts';
import { databaseEnvName } from '../dev-plan.ts';

const USAGE = `Usage: carrot events dlq list [appDir] [options]
       carrot events dlq replay <id ...> [appDir] --service <name> [options]
       carrot events dlq replay --all [appDir] [--service <name>] [options]

Dead letters: events a subscriber failed on too often. 'list' shows them with their
error; 'replay' puts them back in the service's inbox, where its subscriber handles them
again (a running service picks them up within a second). Works on the databases
'carrot dev' uses, whether the app runs or not.

Arguments:
  appDir             Folder with app.ts or carotene.app.ts (default .)

Options:
  --service <name>   One service (default: every service that subscribes to events)
  --all              Replay every dead letter (of --service, or of every service)
  --data-dir <d>     The app's data folder (default <appDir>/.carotene)
  --json             list: one JSON object per line
  -h, --help         Show this help

Environment:
  CAROTENE_DATABASE_URL_<SERVICE>  PostgreSQL URL of a service, as for 'carrot dev'`;

export const events: Command = {
  name: 'events',
  summary: 'Dead letters of event subscribers: list and replay',
  usage: USAGE,
  run: runEvents,
};

async function runEvents(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOrUsage(() =>
    parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { service: { type: 'string' }, all: { type: 'boolean' }, 'data-dir': { type: 'string' }, json: { type: 'boolean' } },
    }),
  );
  const [group, action, ...rest] = positionals;
  if (group !== 'dlq') throw new UsageError(group === undefined ? 'missing sub-command: dlq' : `unknown sub-command '${group}'; expected dlq`);
  if (action !== 'list' && action !== 'replay') throw new UsageError(`'carrot events dlq' needs list or replay${action ? `, not '${action}'` : ''}`);

  // the app folder is the one positional that names an existing path; the rest are ids
  const ids = action === 'replay' ? rest.filter((r) => !r.includes('/') && r !== '.') : [];
  const target = rest.find((r) => !ids.includes(r)) ?? '.';
  const appFile = findAppFile(target);
  const app = await loadApp(appFile);
  const dataDir = resolve(values['data-dir'] ?? join(dirname(appFile), '.carotene'));
  const services = pickServices(app, values.service);

  if (action === 'replay' && !values.all && ids.length === 0) throw new UsageError('replay needs event ids or --all');
  if (action === 'replay' && ids.length > 0 && !values.service && services.length > 1) {
    throw new UsageError('replaying by id needs --service <name>');
  }

  let total = 0;
  for (const service of services) {
    const store = await openServiceStore(service, dataDir);
    try {
      await migrateEventTables(store.db, store.kind, service);
      if (action === 'list') {
        const dead = await listDeadLetters(store.db);
        total += dead.length;
        for (const d of dead) {
          if (values.json)
            io.out(
              JSON.stringify({
                service,
                id: d.id,
                type: d.type,
                key: d.key,
                attempts: d.attempts,
                failedAt: new Date(d.failed_at).toISOString(),
                error: d.error,
              }),
            );
          else io.out(`${service}  ${d.id}  ${d.type}  key=${d.key}  attempts=${d.attempts}  ${new Date(d.failed_at).toISOString()}\n    ${d.error}`);
        }
      } else {
        const replayed = await replayDeadLetters(store.db, values.all ? 'all' : ids);
        total += replayed.length;
        const missing = ids.filter((id) => !replayed.includes(id));
        if (missing.length > 0) throw new CliError(`${service} has no dead letter ${missing.join(', ')}`);
        for (const id of replayed) io.out(`${service}: replayed ${id}`);
      }
    } finally {
      await store.close();
    }
  }
  if (action === 'list' && !values.json) io.out(total === 0 ? 'no dead letters' : `${total} dead letter${total === 1 ? '' : 's'}`);
  if (action === 'replay' && total === 0) io.out('nothing to replay');
  return 0;
}

function pickServices(app: AppDef, name: string | undefined): string[] {
  if (name !== undefined) {
    const def = app.services.find((s) => s.name === name);
    if (!def) throw new CliError(`app '${app.name}' has no service '${name}' (it has: ${app.services.map((s) => s.name).join(', ')})`);
    if (def.kind === 'external') throw new CliError(`'${name}' is an external service: Carotene keeps no inbox or dead letters for it`);
    return [name];
  }
  return implementedServices(app)
    .filter((s) => s.subscribes.length > 0)
    .map((s) => s.name);
}

function openServiceStore(service: string, dataDir: string): Promise<StoreDriver> {
  const url = process.env[databaseEnvName(service)];
  return openStore(url ? { url } : { file: sqliteFile(dataDir, service) });
}
