import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findAppFile, loadApp } from '../app-module.ts';
import { CliError, parseOrUsage, UsageError, type CliIo, type Command } from '../command.ts';
import { ensureCertificates } from '../../security/cert-store.ts';
import { certsDir } from '../../security/cert-paths.ts';
import { identitiesOf, planDev, type DevPlan } from '../dev-plan.ts';
import { applyGroups, resolveGroups, type ServiceGroup } from '../group-plan.ts';
import { reservePorts } from '../ports.ts';
import { StartupError, Supervisor } from '../supervisor.ts';

const USAGE = `Usage: carrot dev [appDir] [options]

Runs every service of the app as its own process (with --monolith or --group, several in
one process), each with its own database, and the gateway in front of them. Restarts a
process that crashes; Ctrl-C stops everything.

Arguments:
  appDir            Folder with app.ts or carotene.app.ts, or the app module itself (default .)

Options:
  --port <n>        Gateway port (default: the app's gateway.port, else 8080; 0 picks a free one)
  --host <h>        Gateway host (default: the app's gateway.host, else 127.0.0.1)
  --data-dir <d>    Databases, logs, certificates and registry.json (default <appDir>/.carotene)
  --monolith        Run every service in one process, with in-process calls between them
  --group <g>=<s,s> Run these services in one process, e.g. --group core=users,catalog
                    (repeatable); services in no group keep a process of their own
  --separate        One process per service, whatever the app's development environment says
  -h, --help        Show this help

Environment:
  CAROTENE_DATABASE_URL_<SERVICE>  PostgreSQL URL for one service (e.g. ..._ORDER_HISTORY
                                   for order-history); SQLite under <data-dir>/db otherwise
  CAROTENE_LOG_LEVEL               Log level of every process (default info)
  CAROTENE_ENVIRONMENT             Environment of the app config whose monolith/groups apply
                                   (default development)`;

export const dev: Command = {
  name: 'dev',
  summary: 'Run every service as its own process, with the gateway',
  usage: USAGE,
  run: runDev,
};

async function runDev(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOrUsage(() =>
    parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        monolith: { type: 'boolean' },
        separate: { type: 'boolean' },
        group: { type: 'string', multiple: true },
      },
    }),
  );
  if (positionals.length > 1) throw new UsageError(`expected one app folder, got ${positionals.length}: ${positionals.join(' ')}`);
  const portFlag = values.port === undefined ? undefined : parsePort(values.port);
  if (values.host === '') throw new UsageError('--host needs a value');

  const appFile = findAppFile(positionals[0] ?? '.');
  const app = await loadApp(appFile);
  const appDir = dirname(appFile);
  const groups = processGroups(() => resolveGroups(app, { monolith: values.monolith, separate: values.separate, groupFlags: values.group, environment: process.env.CAROTENE_ENVIRONMENT }));
  const dataDir = resolve(values['data-dir'] ?? join(appDir, '.carotene'));
  const host = values.host ?? app.gateway.host ?? '127.0.0.1';
  const ports = await reservePorts({ host, port: portFlag ?? app.gateway.port ?? 8080 }, app.services.length);

  const plan = applyGroups(planDev({ app, appFile, dataDir, gateway: { host, port: ports.gateway }, servicePorts: ports.services, env: process.env }), groups);
  await mkdir(plan.logsDir, { recursive: true });
  await mkdir(plan.dbDir, { recursive: true });
  await writeJsonAtomically(plan.registryFile, plan.registry);
  const certs = await ensureCertificates(dataDir, app.name, identitiesOf(app));
  if (certs.createdCa) io.out(`carrot dev: created the certificate authority of '${app.name}' in ${certsDir(dataDir)}`);
  else if (certs.issued.length > 0) io.out(`carrot dev: issued certificates for ${certs.issued.join(', ')}`);

  io.out(`carrot dev: starting '${app.name}' (${app.services.length} service${app.services.length === 1 ? '' : 's'}${inProcesses(plan)} and the gateway)`);
  const supervisor = new Supervisor(plan.specs, { print: io.out });
  const stopped = stopOnSignals(supervisor, io);
  try {
    await supervisor.start();
  } catch (err) {
    stopped.dispose();
    if (err instanceof StartupError) throw new CliError(err.message);
    throw err;
  }
  if (!supervisor.stopping) printWhere(plan, io);
  return stopped.code;
}

/** Resolves with the exit code once a signal has stopped everything. */
function stopOnSignals(supervisor: Supervisor, io: CliIo): { code: Promise<number>; dispose(): void } {
  let resolveCode: (code: number) => void = () => {};
  const code = new Promise<number>((r) => (resolveCode = r));
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      // a second Ctrl-C does not wait: exiting SIGKILLs the children (see Supervisor)
      io.err(`carrot dev: ${signal} again, killing everything`);
      dispose();
      resolveCode(130);
      return;
    }
    io.out(`carrot dev: ${signal}, stopping every process...`);
    void supervisor.stop().then(() => {
      dispose();
      io.out('carrot dev: stopped');
      resolveCode(0);
    });
  };
  const dispose = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { code, dispose };
}

function printWhere(plan: DevPlan, io: CliIo): void {
  // relative when inside the working folder, absolute otherwise (no ../../tmp/...)
  const rel = (p: string): string => {
    const r = relative(process.cwd(), p);
    return r === '' ? '.' : r.startsWith('..') || isAbsolute(r) ? p : r;
  };
  io.out('');
  io.out(`gateway    ${plan.registry.gateway.url}`);
  io.out(`logs       ${rel(plan.logsDir)}/${inProcesses(plan) === '' ? '<service>' : '<process>'}.log`);
  for (const db of plan.databases) io.out(`database   ${db.service}: ${db.where.startsWith('/') ? rel(db.where) : db.where}`);
  io.out(`registry   ${rel(plan.registryFile)}`);
  io.out('Ctrl-C stops everything.');
}

/** The groups the flags and the app config ask for; a bad one is a usage error. */
function processGroups(resolve: () => ServiceGroup[]): ServiceGroup[] {
  try {
    return resolve();
  } catch (err) {
    if (err instanceof TypeError) throw new UsageError(err.message);
    throw err;
  }
}

/** ` in 2 processes` when some services share a process; nothing when each has its own. */
function inProcesses(plan: DevPlan): string {
  const services = plan.specs.filter((s) => s.stage === undefined || s.stage === 0).length;
  return services === plan.databases.length ? '' : ` in ${services} process${services === 1 ? '' : 'es'}`;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`--port must be a number from 0 to 65535, got '${text}'`);
  return port;
}

/** Readers never see half a registry: write beside it, then rename over it. */
async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, file);
}
