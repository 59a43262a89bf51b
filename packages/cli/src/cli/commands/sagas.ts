import { implementedServices } from 'carotene/model';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AppDef } from 'carotene/model';
import type { SagaStatus } from 'carotene/model';
import { migrateEventTables } from '@carotene/runtime/events';
import { sqliteFile } from '@carotene/runtime/service';
import { listSagas, showSaga, type SagaDetail, type SagaSummary } from '@carotene/runtime/sagas';
import { openStore, type StoreDriver } from '@carotene/runtime/store';
import { findAppFile, loadApp } from '../app-module.ts';
import { CliError, parseOrUsage, UsageError, type CliIo, type Command } from '../command.ts';
import { databaseEnvName } from '../dev-plan.ts';

const USAGE = `Usage: carrot sagas list [appDir] [options]
       carrot sagas show <id> [appDir] [options]

Saga instances of the services that orchestrate sagas, read from their databases (the
ones 'carrot dev' uses, whether the app runs or not). 'list' shows the newest instances
with their status, current step and failure; 'show' one instance with its input, results
and every try of every step and compensation.

Arguments:
  id                 A saga instance id, e.g. checkout/ord_123
  appDir             Folder with app.ts or carotene.app.ts (default .)

Options:
  --service <name>   One service (default: every service that declares sagas)
  --status <s>       list: running, compensating, completed or compensated
  --limit <n>        list: at most n instances per service (default 50)
  --data-dir <d>     The app's data folder (default <appDir>/.carotene)
  --json             JSON: one object per line (list), one object (show)
  -h, --help         Show this help

Environment:
  CAROTENE_DATABASE_URL_<SERVICE>  PostgreSQL URL of a service, as for 'carrot dev'`;

const STATUSES: readonly SagaStatus[] = ['running', 'compensating', 'completed', 'compensated'];

export const sagas: Command = {
  name: 'sagas',
  summary: 'Saga instances and their step history: list and show',
  usage: USAGE,
  run: runSagas,
};

async function runSagas(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOrUsage(() =>
    parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        service: { type: 'string' },
        status: { type: 'string' },
        limit: { type: 'string' },
        'data-dir': { type: 'string' },
        json: { type: 'boolean' },
      },
    }),
  );
  const [action, ...rest] = positionals;
  if (action !== 'list' && action !== 'show')
    throw new UsageError(action === undefined ? 'missing sub-command: list or show' : `unknown sub-command '${action}'; expected list or show`);
  const id = action === 'show' ? rest.shift() : undefined;
  if (action === 'show' && id === undefined) throw new UsageError('show needs a saga instance id');
  if (rest.length > 1) throw new UsageError(`unexpected arguments: ${rest.slice(1).join(' ')}`);
  const status = values.status;
  if (status !== undefined && !STATUSES.includes(status as SagaStatus)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');

  const appFile = findAppFile(rest[0] ?? '.');
  const app = await loadApp(appFile);
  const dataDir = resolve(values['data-dir'] ?? join(dirname(appFile), '.carotene'));
  const services = pickServices(app, values.service);

  if (action === 'list') {
    let total = 0;
    for (const service of services) {
      const found = await withStore(service, dataDir, (db) => listSagas(db, { limit, status: status as SagaStatus | undefined }));
      total += found.length;
      for (const s of found) io.out(values.json ? JSON.stringify({ service, ...s }) : summaryLine(service, s));
    }
    if (!values.json) io.out(total === 0 ? 'no saga instances' : `${total} saga instance${total === 1 ? '' : 's'}`);
    return 0;
  }
  for (const service of services) {
    const detail = await withStore(service, dataDir, (db) => showSaga(db, id!));
    if (!detail) continue;
    if (values.json) io.out(JSON.stringify({ service, ...detail }));
    else for (const line of detailLines(service, detail)) io.out(line);
    return 0;
  }
  throw new CliError(`no saga instance '${id}' in ${services.map((s) => `'${s}'`).join(', ')}`);
}

function pickServices(app: AppDef, name: string | undefined): string[] {
  if (name !== undefined) {
    if (!app.services.some((s) => s.name === name))
      throw new CliError(`app '${app.name}' has no service '${name}' (it has: ${app.services.map((s) => s.name).join(', ')})`);
    return [name];
  }
  const orchestrators = implementedServices(app)
    .filter((s) => (s.sagas ?? []).length > 0)
    .map((s) => s.name);
  if (orchestrators.length === 0) throw new CliError(`no service of app '${app.name}' declares sagas`);
  return orchestrators;
}

async function withStore<T>(service: string, dataDir: string, read: (db: StoreDriver['db']) => Promise<T>): Promise<T> {
  const url = process.env[databaseEnvName(service)];
  const store = await openStore(url ? { url } : { file: sqliteFile(dataDir, service) });
  try {
    // a database the service never started in has no saga tables yet
    await migrateEventTables(store.db, store.kind, service);
    return await read(store.db);
  } finally {
    await store.close();
  }
}

const iso = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString());

function summaryLine(service: string, s: SagaSummary): string {
  const at = s.step === undefined ? '' : `  step=${s.step}`;
  const failure = s.failure ? `\n    ${s.failure.step}: ${s.failure.code} ${s.failure.message}` : '';
  return `${service}  ${s.id}  ${s.status}${at}  started ${iso(s.startedAt)}  ${s.endedAt === undefined ? 'not ended' : `ended ${iso(s.endedAt)}`}${failure}`;
}

function detailLines(service: string, d: SagaDetail): string[] {
  const lines = [
    `${d.id}  (saga '${d.saga}' of ${service})`,
    `  status    ${d.status}${d.step === undefined ? '' : `, at step ${d.step}`}`,
    `  started   ${iso(d.startedAt)}   deadline ${iso(d.deadline)}   ended ${iso(d.endedAt)}`,
    `  input     ${JSON.stringify(d.input)}`,
  ];
  if (d.failure) lines.push(`  failure   ${d.failure.step}: ${d.failure.code} ${d.failure.message}`);
  lines.push('  steps');
  for (const t of d.steps) {
    const took = t.endedAt === undefined ? 'no outcome recorded' : `${t.endedAt - t.startedAt} ms`;
    const detail = t.error ? `${t.error.code} ${t.error.message}` : t.output === undefined ? '' : JSON.stringify(t.output);
    lines.push(
      `    ${String(t.seq).padStart(4)}  ${(t.phase === 'run' ? t.step : `undo ${t.step}`).padEnd(16)} #${t.attempt}  ${t.status.padEnd(7)}  ${took.padEnd(20)} key=${t.idempotencyKey}  ${detail}`,
    );
  }
  return lines;
}
