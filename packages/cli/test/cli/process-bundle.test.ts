import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { childCommand, GATEWAY_MAIN, RUNTIME_MAIN, type DevPlan } from '../../src/cli/dev-plan.ts';
import { defaultCacheDir } from '../../src/cli/bundle-cache.ts';
import { bundledPlan, bundleEntries } from '../../src/cli/process-bundle.ts';
import type { ProcessSpec } from '../../src/cli/supervisor.ts';

const run = promisify(execFile);
const shopApp = fileURLToPath(new URL('../../../../examples/shop/app.ts', import.meta.url));
const printApp = fileURLToPath(new URL('../../../runtime/test/fixtures/print-app.ts', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'carotene-bundle-'));
const cacheDir = join(dataDir, 'cache');
const appDecl = fileURLToPath(new URL('../../../carotene/src/declare/app.ts', import.meta.url));
const echoApp = fileURLToPath(new URL('fixtures/echo-app/app.ts', import.meta.url));
after(() => rmSync(dataDir, { recursive: true, force: true }));

const spec = (name: string, command: { command: string; args: readonly string[] }): ProcessSpec => ({
  name,
  ...command,
  env: { CAROTENE_APP_FILE: shopApp },
  readyUrl: 'http://127.0.0.1:1/ready',
  logFile: join(dataDir, `${name}.log`),
});
const plan = (specs: ProcessSpec[]): DevPlan => ({
  registry: { app: 'shop', gateway: { url: 'http://127.0.0.1:1' }, services: {} },
  registryFile: join(dataDir, 'registry.json'),
  logsDir: dataDir,
  dbDir: dataDir,
  specs,
  externals: [],
  databases: [],
});

test('children that ran an entry under tsx run one bundled file with plain node, and find the app without importing it again', async () => {
  const other = spec('other', { command: '/bin/true', args: ['x'] });
  const { plan: bundled, fallback } = bundledPlan(
    plan([spec('a', childCommand(printApp)), spec('b', childCommand(printApp)), other]),
    await bundleEntries(shopApp, [printApp], cacheDir),
  );
  assert.equal(fallback, undefined);
  const [a, b, unchanged] = bundled.specs;
  assert.equal(a!.args[0], '--enable-source-maps');
  assert.ok(a!.args[1]!.startsWith(cacheDir) && a!.args[1]!.endsWith('/process-0.mjs'), a!.args[1]);
  assert.deepEqual(b!.args, a!.args, 'one bundle per entry, shared by every process that runs it');
  assert.deepEqual(unchanged, other);
  // from the data folder, with no tsx and no node_modules above it: external packages are found by absolute path
  // no NODE_OPTIONS: the test runner's `--import tsx` must not be what makes the bundle run
  const { NODE_OPTIONS: _, ...env } = process.env;
  const { stdout } = await run(a!.command, [...a!.args], { env: { ...env, CAROTENE_APP_FILE: shopApp }, cwd: dataDir });
  assert.deepEqual(JSON.parse(stdout), {
    app: 'shop',
    services: ['users', 'catalog', 'orders', 'payments', 'notifications', 'recommendations'],
    typescriptLoader: '--enable-source-maps',
  });
});

test('the npm packages are bundled too, except native and worker-file ones, which stay external by absolute path', async () => {
  const { plan: bundled } = bundledPlan(
    plan([spec('service', childCommand(RUNTIME_MAIN)), spec('gateway', childCommand(GATEWAY_MAIN))]),
    await bundleEntries(shopApp, [RUNTIME_MAIN, GATEWAY_MAIN], cacheDir),
  );
  const dir = dirname(bundled.specs[0]!.args[1]!);
  const code = readdirSync(dir)
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
  // a match test on megabytes of code would print them all when it fails
  assert.ok(!code.includes('node_modules/zod/'), 'zod is inside the bundle');
  assert.ok(code.includes('"ZodObject"') || code.includes('ZodObject'), 'zod is inside the bundle');
  assert.ok(/"file:\/\/[^"]*\/node_modules\/better-sqlite3\/[^"]*"/.test(code), 'the native addon stays outside, by absolute file URL');
  assert.ok(/"\/[^"]*\/node_modules\/pino\/[^"]*"/.test(code), 'pino, required by fastify (bundled), by absolute path');
});

test('a start with unchanged code reuses the cached build; a changed input builds again', async () => {
  const appDir = mkdtempSync(join(tmpdir(), 'carotene-bundle-app-'));
  after(() => rmSync(appDir, { recursive: true, force: true }));
  const appFile = join(appDir, 'app.ts');
  // saved a minute ago, unless `justNow`
  const write = (name: string, justNow = false) => {
    writeFileSync(
      appFile,
      [
        `import { app } from ${JSON.stringify(appDecl)};`,
        `import echo from ${JSON.stringify(echoApp)};`,
        `export default app({ name: '${name}', services: echo.services });`,
      ].join('\n'),
    );
    if (!justNow) utimesSync(appFile, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  };
  const bundle = async () => bundledPlan(plan([spec('a', childCommand(printApp))]), await bundleEntries(appFile, [printApp], cacheDir)).plan.specs[0]!.args[1]!;
  const appName = async (file: string) =>
    JSON.parse((await run(process.execPath, [file], { env: { PATH: process.env.PATH, CAROTENE_APP_FILE: appFile } })).stdout).app;
  write('first');
  const first = await bundle();
  assert.equal(await bundle(), first, 'reused');
  assert.equal(await appName(first), 'first');
  write('second');
  const second = await bundle();
  assert.notEqual(second, first, 'rebuilt');
  assert.equal(await appName(second), 'second');
  // saved while esbuild may have been reading it: used for this start, never reused
  write('third', true);
  const third = await bundle();
  assert.equal(await appName(third), 'third');
  assert.notEqual(await bundle(), third, 'built again');
});

test('an app that cannot be bundled keeps the tsx commands and says why', async () => {
  const broken = join(dataDir, 'broken-app.ts');
  writeFileSync(broken, 'export default app({ name: "x", services: [ });\n');
  const original = plan([spec('a', childCommand(printApp))]);
  const { plan: same, fallback } = bundledPlan(original, await bundleEntries(broken, [printApp], cacheDir));
  assert.equal(same, original);
  assert.match(fallback ?? '', /Build failed|Expected/);
});

test('the bundle cache lives in node_modules/.cache above the app, or where CAROTENE_BUNDLE_CACHE says', () => {
  assert.equal(defaultCacheDir(shopApp, {}), fileURLToPath(new URL('../../../../node_modules/.cache/carotene/bundles', import.meta.url)));
  assert.equal(defaultCacheDir(shopApp, { CAROTENE_BUNDLE_CACHE: 'some/where' }), resolve('some/where'));
  // no node_modules anywhere above: the system's temporary folder
  assert.equal(defaultCacheDir('/nowhere-with-modules/app.ts', {}), join(tmpdir(), 'carotene-bundles'));
});
