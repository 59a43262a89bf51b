import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { isEnvironmentName, resolveEnvironment } from '../../build/environment.ts';
import { kindLabel } from '../../build/app-graph.ts';
import { readinessFromDeployments } from '../../build/health-status.ts';
import { HealthCollector } from '../../dashboard/health-collector.ts';
import { assessApp, type WorkloadHealthReport, type WorkloadSignals } from '../../dashboard/service-health.ts';
import { ENVIRONMENT_NAMES, type EnvironmentName } from 'carotene/model';
import type { AppDef } from 'carotene/model';
import { SUPERVISOR_IDENTITY } from '@carotene/runtime/security';
import { tlsFiles } from '@carotene/runtime/security';
import { findAppFile, loadApp } from '../app-module.ts';
import { CliError, parseOrUsage, UsageError, type CliIo, type Command } from '../command.ts';

const USAGE = `Usage: carrot status [appDir] [options]

Health of a running app: each service and the gateway is healthy (every replica ready),
degraded (some) or unhealthy (none), and so is the app. Asks the local processes of
'carrot dev' (/ready of every instance through the registry; grpc.health.v1 for an
external service), or, with --source
kubernetes, the readiness Kubernetes reports for the environment's Deployments (through
kubectl). Local processes that serve /metrics are looked at twice, --window apart: from
5 % of requests failing (5xx) a ready service is degraded, from 50 % unhealthy. The dev
dashboard shows the same verdicts. Exits 0 when healthy, 1 otherwise.

Arguments:
  appDir              Folder with app.ts or carotene.app.ts (default .)

Options:
  --env <name>        development, staging or production (default development)
  --source <s>        local or kubernetes (default: kubernetes when --env is not
                      development and a kubeconfig is found, else local)
  --data-dir <d>      The app's data folder with registry.json (default <appDir>/.carotene)
  --window <ms>       Local: time between the two looks at /metrics for error rates (default 1000)
  -h, --help          Show this help`;

export const status: Command = {
  name: 'status',
  summary: 'Health of a running app: healthy, degraded or unhealthy',
  usage: USAGE,
  run: runStatus,
};

async function runStatus(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOrUsage(() =>
    parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { env: { type: 'string' }, source: { type: 'string' }, 'data-dir': { type: 'string' }, window: { type: 'string' } },
    }),
  );
  if (positionals.length > 1) throw new UsageError(`expected one app folder, got ${positionals.length}`);
  const envName = values.env ?? 'development';
  if (!isEnvironmentName(envName)) throw new UsageError(`--env must be one of ${ENVIRONMENT_NAMES.join(', ')}, got '${envName}'`);
  if (values.source !== undefined && values.source !== 'local' && values.source !== 'kubernetes') {
    throw new UsageError(`--source must be local or kubernetes, got '${values.source}'`);
  }
  const windowMs = Number(values.window ?? 1_000);
  if (!/^\d+$/.test(values.window ?? '1000') || windowMs > 60_000)
    throw new UsageError(`--window must be a number of milliseconds up to 60000, got '${values.window}'`);
  const appFile = findAppFile(positionals[0] ?? '.');
  const app = await loadApp(appFile);
  const dataDir = resolve(values['data-dir'] ?? join(dirname(appFile), '.carotene'));
  const source = values.source ?? (envName !== 'development' && kubeconfigFound() ? 'kubernetes' : 'local');
  const workloads = source === 'kubernetes' ? await fromKubernetes(app, envName) : await fromLocal(app, dataDir, windowMs);

  const report = assessApp(workloads);
  io.out(
    `${app.name} (${envName}, ${source === 'kubernetes' ? `namespace ${resolveEnvironment(app, envName).namespace}` : 'local processes'}): ${report.health}`,
  );
  const width = Math.max(...workloads.map((w) => w.name.length));
  workloads.forEach((w, i) => {
    const r = report.workloads[i]!;
    const def = app.services.find((s) => s.name === w.name);
    const label = def ? kindLabel(def) : undefined;
    const notes = [label, w.detail].filter(Boolean).join(', ');
    io.out(`  ${w.name.padEnd(width)}  ${r.health.padEnd(9)}  ${w.ready}/${w.desired} ready${notes ? `  (${notes})` : ''}${traffic(r)}`);
  });
  return report.health === 'healthy' ? 0 : 1;
}

/** `  4.0 req/s, 12% errors` when metrics gave a rate. */
function traffic(r: WorkloadHealthReport): string {
  if (r.requestsPerSecond === undefined) return '';
  const errors = r.errorRate === undefined ? '' : `, ${(r.errorRate * 100).toFixed(r.errorRate >= 0.1 ? 0 : 1)}% errors`;
  return `  ${r.requestsPerSecond.toFixed(1)} req/s${errors}`;
}

function kubeconfigFound(): boolean {
  return Boolean(process.env.KUBECONFIG) || existsSync(join(homedir(), '.kube', 'config'));
}

/**
 * Every local instance, found through the registry `carrot dev` wrote, looked at as the
 * dashboard does; twice, `windowMs` apart, when some serve metrics, for their error rates.
 */
async function fromLocal(app: AppDef, dataDir: string, windowMs: number): Promise<WorkloadSignals[]> {
  const file = join(dataDir, 'registry.json');
  try {
    JSON.parse(await readFile(file, 'utf8'));
  } catch {
    throw new CliError(`no registry at ${file}: is 'carrot dev' running for this app?`);
  }
  const collector = new HealthCollector({
    services: app.services.map((s) => s.name),
    registryFile: file,
    tls: tlsFiles(dataDir, SUPERVISOR_IDENTITY),
    windowMs: windowMs + 10_000,
  });
  const first = await collector.sample();
  if (windowMs === 0 || !first.some((w) => w.instances.some((i) => i.metrics))) return first;
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  return collector.sample();
}

/** Ready replicas of the environment's Deployments, as Kubernetes reports them. */
async function fromKubernetes(app: AppDef, envName: EnvironmentName): Promise<WorkloadSignals[]> {
  const namespace = resolveEnvironment(app, envName).namespace;
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('kubectl', ['get', 'deployments', '-n', namespace, '-o', 'json'], {
      timeout: 15_000,
      maxBuffer: 16 * 1024 * 1024,
    }));
  } catch (err) {
    throw new CliError(`kubectl could not list the Deployments of ${namespace}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
  }
  return readinessFromDeployments(JSON.parse(stdout), [...app.services.map((s) => s.name).sort(), 'gateway']);
}
