import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { isEnvironmentName, resolveEnvironment } from '../../build/environment.ts';
import { appHealth, readinessFromDeployments, workloadHealth, type WorkloadReadiness } from '../../build/health-status.ts';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../../declare/environments.ts';
import type { AppDef } from '../../declare/app.ts';
import { SUPERVISOR_IDENTITY } from '../../security/identity.ts';
import { tlsFiles } from '../../security/cert-paths.ts';
import type { Registry } from '../../transport/transport.ts';
import { findAppFile, loadApp } from '../app-module.ts';
import { CliError, parseOrUsage, UsageError, type CliIo, type Command } from '../command.ts';
import { describeProbe, probe } from '../readiness.ts';

const USAGE = `Usage: carrot status [appDir] [options]

Health of a running app: each service and the gateway is healthy (every replica ready),
degraded (some) or unhealthy (none), and so is the app. Asks the local processes of
'carrot dev' (their /ready through the registry), or, with --source kubernetes, the
readiness Kubernetes reports for the environment's Deployments (through kubectl).
Exits 0 when healthy, 1 otherwise.

Arguments:
  appDir              Folder with app.ts or carotene.app.ts (default .)

Options:
  --env <name>        development, staging or production (default development)
  --source <s>        local or kubernetes (default: kubernetes when --env is not
                      development and a kubeconfig is found, else local)
  --data-dir <d>      The app's data folder with registry.json (default <appDir>/.carotene)
  -h, --help          Show this help`;

export const status: Command = {
  name: 'status',
  summary: 'Health of a running app: healthy, degraded or unhealthy',
  usage: USAGE,
  run: runStatus,
};

async function runStatus(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOrUsage(() =>
    parseArgs({ args: [...argv], allowPositionals: true, options: { env: { type: 'string' }, source: { type: 'string' }, 'data-dir': { type: 'string' } } }),
  );
  if (positionals.length > 1) throw new UsageError(`expected one app folder, got ${positionals.length}`);
  const envName = values.env ?? 'development';
  if (!isEnvironmentName(envName)) throw new UsageError(`--env must be one of ${ENVIRONMENT_NAMES.join(', ')}, got '${envName}'`);
  if (values.source !== undefined && values.source !== 'local' && values.source !== 'kubernetes') {
    throw new UsageError(`--source must be local or kubernetes, got '${values.source}'`);
  }
  const appFile = findAppFile(positionals[0] ?? '.');
  const app = await loadApp(appFile);
  const dataDir = resolve(values['data-dir'] ?? join(dirname(appFile), '.carotene'));
  const source = values.source ?? (envName !== 'development' && kubeconfigFound() ? 'kubernetes' : 'local');
  const workloads = source === 'kubernetes' ? await fromKubernetes(app, envName) : await fromLocal(app, dataDir);

  const health = appHealth(workloads);
  io.out(`${app.name} (${envName}, ${source === 'kubernetes' ? `namespace ${resolveEnvironment(app, envName).namespace}` : 'local processes'}): ${health}`);
  const width = Math.max(...workloads.map((w) => w.name.length));
  for (const w of workloads) {
    io.out(`  ${w.name.padEnd(width)}  ${workloadHealth(w).padEnd(9)}  ${w.ready}/${w.desired} ready${w.detail ? `  (${w.detail})` : ''}`);
  }
  return health === 'healthy' ? 0 : 1;
}

function kubeconfigFound(): boolean {
  return Boolean(process.env.KUBECONFIG) || existsSync(join(homedir(), '.kube', 'config'));
}

/** One ready probe per local process, found through the registry `carrot dev` wrote. */
async function fromLocal(app: AppDef, dataDir: string): Promise<WorkloadReadiness[]> {
  const file = join(dataDir, 'registry.json');
  let registry: Registry;
  try {
    registry = JSON.parse(await readFile(file, 'utf8')) as Registry;
  } catch {
    throw new CliError(`no registry at ${file}: is 'carrot dev' running for this app?`);
  }
  const tls = tlsFiles(dataDir, SUPERVISOR_IDENTITY);
  const targets = [...app.services.map((s) => ({ name: s.name, url: registry.services[s.name]?.url })), { name: 'gateway', url: registry.gateway?.url }];
  return Promise.all(
    targets.map(async ({ name, url }) => {
      if (!url) return { name, desired: 1, ready: 0, detail: 'not in the registry' };
      const answer = await probe(`${url}/ready`, 1_000, tls);
      return answer === 200 ? { name, desired: 1, ready: 1 } : { name, desired: 1, ready: 0, detail: describeProbe(answer) };
    }),
  );
}

/** Ready replicas of the environment's Deployments, as Kubernetes reports them. */
async function fromKubernetes(app: AppDef, envName: EnvironmentName): Promise<WorkloadReadiness[]> {
  const namespace = resolveEnvironment(app, envName).namespace;
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('kubectl', ['get', 'deployments', '-n', namespace, '-o', 'json'], { timeout: 15_000, maxBuffer: 16 * 1024 * 1024 }));
  } catch (err) {
    throw new CliError(`kubectl could not list the Deployments of ${namespace}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
  }
  return readinessFromDeployments(JSON.parse(stdout), [...app.services.map((s) => s.name).sort(), 'gateway']);
}
