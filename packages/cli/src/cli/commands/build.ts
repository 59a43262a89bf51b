import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { latestRelease, parseSnapshot, SNAPSHOT_FILE, type SnapshotHistory } from '../../build/contract-snapshot.ts';
import { PROTO_DIR, protoFiles } from '../../build/contract-protos.ts';
import { readProtoLock } from '@carotene/runtime/grpc';
import { checkDeployable } from '../../build/deploy-checks.ts';
import { isEnvironmentName, resolveEnvironment, type BuildFacts } from '../../build/environment.ts';
import type { IdentityPem } from '../../build/manifests/tls.ts';
import { formatProblem } from '../../build/rules/build-problem.ts';
import { validateApp } from '../../build/validate-app.ts';
import { ENVIRONMENT_NAMES, type EnvironmentName } from 'carotene/model';
import type { AppDef } from 'carotene/model';
import { isCaroteneError } from 'carotene/model';
import { certsDir, tlsFiles } from '@carotene/runtime/security';
import { findAppFile, loadApp } from '../app-module.ts';
import { CliError, parseOrUsage, UsageError, type CliIo, type Command } from '../command.ts';
import { shownPath } from '../shown-path.ts';
import { describeTypecheck, TYPECHECK_STATE, typecheck } from '../typecheck.ts';

const USAGE = `Usage: carrot build [appDir] [options]

Type-checks the app (tsc --noEmit -p <appDir>, when it has a tsconfig.json), validates
its architecture, then writes what it takes to run it elsewhere:
Kubernetes manifests per environment (one YAML file and a kustomize folder each), a
Dockerfile per service and the gateway, a compose file (PostgreSQL and NATS on one
machine), the OpenAPI document of the public API, a topology diagram (Mermaid) and each
contract's .proto, lock and JSON Schema (from the locks in <appDir>/proto, which
'carrot contracts proto' writes: a field they have no number for is refused; without
that folder the numbers are assigned afresh, with a warning).

Refuses, with the file, service and handler, a call to an undeclared integration, an
integration naming an unknown service or function, a cycle of synchronous calls, a store
declared by two services, a subscription nobody publishes, a public route declared twice,
breaking contract changes against the snapshot 'carrot contracts snapshot' saved, and a
contract construct that protobuf cannot carry (naming contract, function and field).

Arguments:
  appDir             Folder with app.ts or carotene.app.ts, or the app module (default .)

Options:
  --env <name>       development, staging or production (default: all three)
  --out <dir>        Output folder (default <appDir>/deploy; it ignores itself in git)
  --data-dir <d>     The app's data folder with its certificates (default <appDir>/.carotene)
  --snapshot <file>  Contract snapshot to compare with (default <appDir>/${SNAPSHOT_FILE}, if present)
  --image-tag <tag>  Tag of every image (default: environments.<env>.image.tag, else the
                     version in the app's package.json; 'latest' is refused)
  --no-typecheck     Skip the type check
  -h, --help         Show this help`;

/** What a container image tag may be (the OCI distribution spec's grammar). */
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export const build: Command = {
  name: 'build',
  summary: 'Validate the architecture; write Kubernetes, Docker, compose, OpenAPI and topology files',
  usage: USAGE,
  run: runBuild,
};

async function runBuild(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOrUsage(() =>
    parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        env: { type: 'string' },
        out: { type: 'string' },
        'data-dir': { type: 'string' },
        snapshot: { type: 'string' },
        'image-tag': { type: 'string' },
        'no-typecheck': { type: 'boolean' },
      },
    }),
  );
  if (positionals.length > 1) throw new UsageError(`expected one app folder, got ${positionals.length}: ${positionals.join(' ')}`);
  if (values.env !== undefined && !isEnvironmentName(values.env)) {
    throw new UsageError(`--env must be one of ${ENVIRONMENT_NAMES.join(', ')}, got '${values.env}'`);
  }
  const imageTag = values['image-tag'];
  if (imageTag !== undefined && !IMAGE_TAG.test(imageTag)) {
    throw new UsageError(`--image-tag must be a container image tag (letters, digits, '_', '.', '-'; at most 128), got '${imageTag}'`);
  }
  const environments: EnvironmentName[] = values.env ? [values.env as EnvironmentName] : [...ENVIRONMENT_NAMES];
  const appFile = findAppFile(positionals[0] ?? '.');
  const appDir = dirname(appFile);
  const dataDir = resolve(values['data-dir'] ?? join(appDir, '.carotene'));
  // tsc runs in its own process while the app loads here
  const checked = values['no-typecheck'] ? undefined : typecheck({ appDir, buildInfoFile: join(dataDir, TYPECHECK_STATE) });
  checked?.catch(() => undefined); // awaited below; a failure before that is not unhandled
  const app = await loadApp(appFile);
  if (checked) {
    const result = await checked;
    if (result.status === 'failed') {
      io.err(result.output);
      throw new CliError(`${describeTypecheck(result)} in '${app.name}'; nothing was written (--no-typecheck skips the check)`);
    }
    io.out(`carrot build: ${describeTypecheck(result)}`);
  }

  const snapshotFile = resolve(values.snapshot ?? join(appDir, SNAPSHOT_FILE));
  if (values.snapshot !== undefined && !existsSync(snapshotFile))
    throw new CliError(`no contract snapshot at ${snapshotFile}; write one with 'carrot contracts snapshot'`);
  const history = existsSync(snapshotFile) ? await readSnapshot(snapshotFile) : undefined;
  const snapshot = history && latestRelease(history);
  const problems = validateApp(app, snapshot);
  if (problems.length > 0) {
    for (const p of problems) io.err(formatProblem(shownPath(appFile), p, shownPath));
    throw new CliError(`${problems.length} problem${problems.length === 1 ? '' : 's'} in '${app.name}'; nothing was written`);
  }
  const against = history ? `, contracts compatible with release ${history.releases.at(-1)!.release} of ${shownPath(snapshotFile)}` : '';
  io.out(`carrot build: '${app.name}' is valid (${app.services.length} services${against})`);

  // from the checked-in locks, frozen: a field without a number is refused, never numbered here.
  // An app without a proto folder has not adopted protobuf yet: its numbers are fresh, and it is told so.
  const protoDir = join(appDir, PROTO_DIR);
  const adopted = existsSync(protoDir);
  const protos = configured(() => protoFiles(app, (name) => readProtoLock(protoDir, name), adopted));
  if (!adopted)
    io.err(
      `carrot build: no ${shownPath(protoDir)}: protobuf field numbers were assigned afresh; run 'carrot contracts proto' and commit the folder so they stay stable`,
    );
  const facts: BuildFacts = { imageTag, appVersion: await packageVersion(appDir) };
  for (const env of environments) configured(() => checkDeployable(app, resolveEnvironment(app, env, facts)));
  const pems = await certificates(app, environments, dataDir, io);
  const outDir = resolve(values.out ?? join(appDir, 'deploy'));
  // the generators load the Kubernetes schemas: only when something is built, not for --help
  const { buildArtifacts } = await import('../../build/build-artifacts.ts');
  const context = workspaceRoot(appDir);
  const files = configured(() =>
    buildArtifacts({
      app,
      environments,
      layout: { appDir: relative(context, appDir) || '.', appModule: basename(appFile), outDir: relative(context, outDir) || '.' },
      paths: { context: relative(outDir, context) || '.', certsDir: relative(outDir, certsDir(dataDir)) || '.' },
      pems,
      facts,
      protos,
    }),
  );
  for (const env of environments) await rm(join(outDir, 'kubernetes', env), { recursive: true, force: true });
  for (const [path, text] of files) {
    const file = join(outDir, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text, path.startsWith('kubernetes/') ? { mode: 0o600 } : undefined);
  }
  for (const env of environments) {
    const resolved = resolveEnvironment(app, env, facts);
    io.out(
      `  ${env.padEnd(11)} ${shownPath(join(outDir, 'kubernetes', `${env}.yaml`))}  namespace ${resolved.namespace}, images :${resolved.image.tag}, events ${resolved.events.transport}, database ${resolved.database.source}`,
    );
  }
  io.out(`  containers  ${shownPath(join(outDir, 'docker'))}/<service>.Dockerfile, ${shownPath(join(outDir, 'compose.yaml'))}`);
  io.out(`  public API  ${shownPath(join(outDir, 'openapi.json'))}`);
  io.out(`  topology    ${shownPath(join(outDir, 'topology.mmd'))}`);
  io.out(`  protobuf    ${shownPath(join(outDir, PROTO_DIR))}/<contract>.proto, from the locks in ${shownPath(protoDir)}`);
  io.out(`wrote ${files.size} files; next: docs/deploy.md`);
  return 0;
}

/** Runs `fn`; an app configuration it refuses becomes a message for the user, not a stack. */
function configured<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isCaroteneError(err, 'INVALID_CONFIG')) throw new CliError(err.message);
    throw err;
  }
}

async function readSnapshot(file: string): Promise<SnapshotHistory> {
  try {
    return parseSnapshot(await readFile(file, 'utf8'), file);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** The PEM files of every identity, issued first if missing, when an environment takes them from files. */
async function certificates(app: AppDef, environments: readonly EnvironmentName[], dataDir: string, io: CliIo): Promise<Record<string, IdentityPem>> {
  if (!environments.some((env) => resolveEnvironment(app, env).certificates.source === 'files')) return {};
  const { identities } = await import('../../build/manifests/tls.ts');
  const { ensureCertificates, hostNames } = await import('@carotene/runtime/security');
  const names = identities(app);
  // each server answers to its Kubernetes names in every namespace built for (and keeps localhost for carrot dev)
  const namespaces = environments.map((env) => resolveEnvironment(app, env).namespace);
  const { createdCa, issued } = await ensureCertificates(dataDir, app.name, names, { names: (identity) => hostNames(identity, { namespaces, local: true }) });
  if (createdCa || issued.length > 0)
    io.out(`  certs       issued for ${issued.join(', ')} under ${shownPath(certsDir(dataDir))}${createdCa ? ' (new CA)' : ''}`);
  const pems: Record<string, IdentityPem> = {};
  for (const name of names) {
    const files = tlsFiles(dataDir, name);
    pems[name] = { ca: await readFile(files.ca, 'utf8'), cert: await readFile(files.cert, 'utf8'), key: await readFile(files.key, 'utf8') };
  }
  return pems;
}

/** The `version` of the app's own package.json (the nearest one up from the app), if it has one. */
async function packageVersion(appDir: string): Promise<string | undefined> {
  for (let dir = appDir; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const version = (JSON.parse(await readFile(file, 'utf8')) as { version?: unknown }).version;
      return typeof version === 'string' && IMAGE_TAG.test(version) ? version : undefined;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The build context of the images: the nearest folder up from the app with a package-lock.json. */
function workspaceRoot(appDir: string): string {
  for (let dir = appDir; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package-lock.json'))) return dir;
    if (dirname(dir) === dir) return appDir;
  }
}
