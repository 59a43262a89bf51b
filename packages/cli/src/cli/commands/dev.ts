import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type AppDef, isCaroteneError } from 'carotene/model';
import { PROTO_DIR } from '../../build/contract-protos.ts';
import { findAppFile, loadApp } from '../app-module.ts';
import { CliError, parseOrUsage, UsageError, type CliIo, type Command } from '../command.ts';
import { ensureCertificates, hostNames } from '@carotene/runtime/security';
import { certsDir } from '@carotene/runtime/security';
import { startDashboard, type RunningDashboard } from '../../dashboard/start-dashboard.ts';
import { databaseEnvName, GATEWAY, GATEWAY_MAIN, identitiesOf, planDev, reachableHost, RUNTIME_MAIN, withoutExternals, type DevPlan } from '../dev-plan.ts';
import { preflight } from '../external-preflight.ts';
import { bundledPlan, bundleEntries } from '../process-bundle.ts';
import { applyGroups, GROUP_MAIN, resolveGroups, type ServiceGroup } from '../group-plan.ts';
import { reservePorts } from '../ports.ts';
import { resolveScale } from '../scale-plan.ts';
import { StartupError, Supervisor } from '../supervisor.ts';
import { describeTypecheck, TYPECHECK_STATE, typecheck, type TypecheckResult } from '../typecheck.ts';
import { DevWatch } from '../watch.ts';
import { shownPath } from '../shown-path.ts';
import { refreshProtoDir, refreshProtoDirInChild } from '../proto-dir.ts';

const USAGE = `Usage: carrot dev [appDir] [options]

Type-checks the app (tsc --noEmit -p <appDir>, when it has a tsconfig.json), then runs
every service of the app as its own process (with --monolith or --group, several in one
process), each with its own database, and the gateway in front of them. Restarts a process
that crashes; Ctrl-C stops everything.

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
  --scale <s>=<n>   Run n instances of service s, e.g. --scale catalog=2 (repeatable); callers
                    balance across them and route around one that fails
  --dashboard-port <n>  Port of the dev dashboard (default 9400, or a free one when 9400
                    is taken; 0 picks a free one); every process exports its traces to it
  --no-dashboard    Do not serve the dashboard
  --no-typecheck    Start without type-checking the app first (and, with --watch, restart
                    without checking a change)
  --watch           Restart a service when its files change (what its module imports); a
                    changed contract restarts its callers too. A change is type-checked
                    first: while it has errors, the running processes keep their code
  -h, --help        Show this help

An external service (external(...) in the app) runs its dev.command in a process of its own,
after its dev.check passed; when that fails, the rest of the app runs without it (with
CI=true, nothing starts and carrot dev exits 1).

Environment:
  CI=true                          A missing command or failed check of an external service
                                   is an error
  CAROTENE_DATABASE_URL_<SERVICE>  PostgreSQL URL for one service (e.g. ..._ORDER_HISTORY
                                   for order-history); SQLite under <data-dir>/db otherwise
  CAROTENE_LOG_LEVEL               Log level of every process (default info)
  CAROTENE_ENVIRONMENT             Environment of the app config whose monolith/groups apply
                                   (default development)
  CAROTENE_BUNDLE_CACHE            Folder of the cached process bundles (default
                                   node_modules/.cache/carotene/bundles above the app)`;

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
        scale: { type: 'string', multiple: true },
        'dashboard-port': { type: 'string' },
        'no-dashboard': { type: 'boolean' },
        'no-typecheck': { type: 'boolean' },
        watch: { type: 'boolean' },
      },
    }),
  );
  if (positionals.length > 1) throw new UsageError(`expected one app folder, got ${positionals.length}: ${positionals.join(' ')}`);
  const portFlag = values.port === undefined ? undefined : parsePort(values.port);
  const dashboardPort = values['dashboard-port'] === undefined ? undefined : parsePort(values['dashboard-port'], '--dashboard-port');
  if (dashboardPort !== undefined && values['no-dashboard']) throw new UsageError('--dashboard-port and --no-dashboard do not go together');
  if (values.host === '') throw new UsageError('--host needs a value');

  const appFile = findAppFile(positionals[0] ?? '.');
  const appDir = dirname(appFile);
  const dataDir = resolve(values['data-dir'] ?? join(appDir, '.carotene'));
  // tsc works in a process of its own while everything below gets ready; nothing is spawned before it passed
  const check = values['no-typecheck'] ? undefined : () => typecheck({ appDir, buildInfoFile: join(dataDir, TYPECHECK_STATE) });
  const checked = check?.();
  checked?.catch(() => undefined); // awaited below; a failure before that is not unhandled
  // children run one bundled JavaScript file each, cached across runs: a third of the start-up
  // time of tsx, and lighter. esbuild works in a process of its own, so this overlaps loading
  // the app, the dashboard and issuing certificates. Every entry, so one build serves every layout.
  const entries = [RUNTIME_MAIN, GROUP_MAIN, GATEWAY_MAIN];
  const bundle = bundleEntries(appFile, entries);
  const app = await loadApp(appFile);
  // the services read their field numbers from here: never a lock older than the contracts
  const protoDir = join(appDir, PROTO_DIR);
  const protos = await refreshProtoDir(app, protoDir).catch((err: unknown) => {
    throw isCaroteneError(err, 'INVALID_CONFIG') ? new CliError(`${err.message}; nothing was started`) : err;
  });
  if (protos.outdated.length > 0) io.out(`carrot dev: updated ${protos.outdated.join(', ')} in ${shownPath(protoDir)} (commit them)`);
  const groups = processGroups(() =>
    resolveGroups(app, { monolith: values.monolith, separate: values.separate, groupFlags: values.group, environment: process.env.CAROTENE_ENVIRONMENT }),
  );
  const host = values.host ?? app.gateway.host ?? '127.0.0.1';
  let scale: Map<string, number>;
  try {
    scale = resolveScale(app, { flags: values.scale ?? [], groups, environment: process.env.CAROTENE_ENVIRONMENT });
  } catch (err) {
    throw err instanceof TypeError ? new UsageError(err.message) : err;
  }
  const instances = app.services.reduce((sum, s) => sum + (scale.get(s.name) ?? 1), 0);
  const ports = await reservePorts({ host, port: portFlag ?? app.gateway.port ?? 8080 }, instances);

  // issued while the dashboard starts (key generation runs on libuv's threads); servers answer to localhost for standard clients
  const certificates = ensureCertificates(dataDir, app.name, identitiesOf(app), { names: (identity) => hostNames(identity, { local: true }) });
  certificates.catch(() => undefined); // awaited below; a failure before that is not unhandled

  const registryFile = join(dataDir, 'registry.json');
  // listening before anything starts, so the processes export their first spans to it
  const dashboard = values['no-dashboard']
    ? undefined
    : await openDashboard({ app, dataDir, registryFile, gatewayUrl: `http://${reachableHost(host)}:${ports.gateway}`, port: dashboardPort });
  // closed however this ends, so a failed start leaves no listener behind
  try {
    const otlpEndpoint = dashboard?.url;
    const full = applyGroups(
      planDev({
        app,
        appFile,
        dataDir,
        gateway: { host, port: ports.gateway },
        servicePorts: ports.services,
        scale,
        env: { ...process.env, CAROTENE_PROTO_DIR: protoDir },
        ...(otlpEndpoint ? { otlpEndpoint } : {}),
      }),
      groups,
    );
    // an external service whose command or pre-flight check fails is left out, and said so
    const problems = await preflight(full.externals);
    for (const p of problems) io.err(`carrot dev: ${p.message}`);
    if (problems.length > 0 && process.env.CI === 'true') {
      throw new CliError(
        `${problems.length === 1 ? 'an external service' : `${problems.length} external services`} cannot start; with CI=true nothing is started`,
      );
    }
    if (problems.length > 0) io.err(`carrot dev: running the app without ${problems.map((p) => `'${p.service}'`).join(', ')}; calls to it fail as UNAVAILABLE`);
    const planned = withoutExternals(full, new Set(problems.map((p) => p.service)));
    const [certs] = await Promise.all([
      certificates,
      mkdir(planned.logsDir, { recursive: true }),
      mkdir(planned.dbDir, { recursive: true }),
      writeJsonAtomically(planned.registryFile, planned.registry),
    ]);
    if (checked) passOrThrow(await checked, app, io);
    const { plan, fallback } = bundledPlan(planned, await bundle);
    if (fallback) io.err(`carrot dev: could not bundle the app (${fallback}); the processes run under tsx`);
    if (certs.createdCa) io.out(`carrot dev: created the certificate authority of '${app.name}' in ${certsDir(dataDir)}`);
    else if (certs.issued.length > 0) io.out(`carrot dev: issued certificates for ${certs.issued.join(', ')}`);

    const started = app.services.length - problems.length;
    io.out(`carrot dev: starting '${app.name}' (${started} service${started === 1 ? '' : 's'}${inProcesses(plan)} and the gateway)`);
    const supervisor = new Supervisor(plan.specs, { print: io.out });
    const stopped = stopOnSignals(supervisor, io);
    try {
      await supervisor.start();
    } catch (err) {
      stopped.dispose();
      if (err instanceof StartupError) throw new CliError(err.message);
      throw err;
    }
    if (!supervisor.stopping) printWhere(plan, io, dashboard?.url);
    const watching =
      values.watch && !supervisor.stopping
        ? await DevWatch.start({
            app,
            appFile,
            supervisor,
            processesOf: (service) => processesOf(plan, groups, service),
            // a start that fell back to tsx goes on with tsx; otherwise a failed bundle keeps the old code
            rebuild: async () => {
              const refreshed = await refreshProtoDirInChild(appDir);
              if (!refreshed.ok) return { failed: `the proto folder could not be refreshed: ${refreshed.output}` };
              const rebuilt = bundledPlan(planned, await bundleEntries(appFile, entries));
              return rebuilt.fallback !== undefined && !fallback ? { failed: rebuilt.fallback } : { specs: rebuilt.plan.specs };
            },
            ...(check ? { typecheck: check } : {}),
            print: io.out,
            printError: io.err,
          })
        : undefined;
    try {
      return await stopped.code;
    } finally {
      watching?.close();
    }
  } finally {
    await dashboard?.close();
  }
}

/** Prints how the type check went; on type errors, tsc's diagnostics and a refusal to start. */
function passOrThrow(result: TypecheckResult, app: AppDef, io: CliIo): void {
  if (result.status === 'failed') {
    io.err(result.output);
    throw new CliError(`${describeTypecheck(result)} in '${app.name}'; nothing was started (--no-typecheck skips the check)`);
  }
  io.out(`carrot dev: ${describeTypecheck(result)}`);
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

function printWhere(plan: DevPlan, io: CliIo, dashboardUrl: string | undefined): void {
  // relative when inside the working folder, absolute otherwise (no ../../tmp/...)
  const rel = (p: string): string => {
    const r = relative(process.cwd(), p);
    return r === '' ? '.' : r.startsWith('..') || isAbsolute(r) ? p : r;
  };
  io.out('');
  io.out(`gateway    ${plan.registry.gateway.url}`);
  if (dashboardUrl) io.out(`dashboard  ${dashboardUrl}`);
  io.out(`logs       ${rel(plan.logsDir)}/${inProcesses(plan) === '' ? '<service>' : '<process>'}.log`);
  for (const db of plan.databases) io.out(`database   ${db.service}: ${db.where.startsWith('/') ? rel(db.where) : db.where}`);
  for (const e of plan.externals) io.out(`external   ${e.service}: gRPC at ${plan.registry.services[e.service]?.url ?? '?'}`);
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

/** The processes that run `service`: its group's, or its own and its extra instances'. */
function processesOf(plan: DevPlan, groups: readonly ServiceGroup[], service: string): string[] {
  const group = groups.find((g) => g.services.includes(service));
  if (group) return [group.name];
  return plan.specs.filter((s) => s.name === service || s.name.startsWith(`${service}#`)).map((s) => s.name);
}

/** ` in 2 processes` when some services share a process; nothing when each has its own. */
function inProcesses(plan: DevPlan): string {
  const services = plan.specs.filter((s) => s.name !== GATEWAY && (s.stage === undefined || s.stage === 0)).length;
  const own = plan.externals.reduce((n, e) => n + e.processes.length - 1, 0); // a scaled external's extra instances
  return services - own === plan.databases.length + plan.externals.length ? '' : ` in ${services} process${services === 1 ? '' : 'es'}`;
}

function parsePort(text: string, flag = '--port'): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`${flag} must be a number from 0 to 65535, got '${text}'`);
  return port;
}

/** Default port of the dev dashboard. */
const DASHBOARD_PORT = 9400;

/**
 * The dashboard on the asked port, or on 9400; when 9400 is taken (another app's `carrot
 * dev`), on a free one: the URL is printed either way. A port asked for explicitly must be free.
 */
async function openDashboard(o: {
  app: AppDef;
  dataDir: string;
  registryFile: string;
  gatewayUrl: string;
  port: number | undefined;
}): Promise<RunningDashboard> {
  const start = (port: number) =>
    startDashboard({
      app: o.app,
      dataDir: o.dataDir,
      registryFile: o.registryFile,
      gatewayUrl: o.gatewayUrl,
      port,
      databaseUrlOf: (s) => process.env[databaseEnvName(s)] || undefined,
    });
  try {
    return await start(o.port ?? DASHBOARD_PORT);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    if (o.port !== undefined) throw new CliError(`the dashboard port ${o.port} is taken; pick another with --dashboard-port, or 0 for any`);
    return start(0);
  }
}

/** Readers never see half a registry: write beside it, then rename over it. */
async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, file);
}
