import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { childCommand, type DevPlan } from '../../src/cli/dev-plan.ts';
import { bundledPlan } from '../../src/cli/process-bundle.ts';
import type { ProcessSpec } from '../../src/cli/supervisor.ts';

const run = promisify(execFile);
const shopApp = fileURLToPath(new URL('../../../../examples/shop/app.ts', import.meta.url));
const printApp = fileURLToPath(new URL('../fixtures/print-app.ts', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'carotene-bundle-'));
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
  databases: [],
});

test('children that ran an entry under tsx run one bundled file with plain node, and find the app without importing it again', async () => {
  const other = spec('other', { command: '/bin/true', args: ['x'] });
  const { plan: bundled, fallback } = await bundledPlan(plan([spec('a', childCommand(printApp)), spec('b', childCommand(printApp)), other]), shopApp, dataDir);
  assert.equal(fallback, undefined);
  const [a, b, unchanged] = bundled.specs;
  assert.equal(a!.args[0], '--enable-source-maps');
  assert.match(a!.args[1]!, /\/bundle\/[0-9a-f]{12}\/process-0\.mjs$/);
  assert.deepEqual(b!.args, a!.args, 'one bundle per entry, shared by every process that runs it');
  assert.deepEqual(unchanged, other);
  // from the data folder, with no tsx and no node_modules above it: packages are found by absolute path
  // no NODE_OPTIONS: the test runner's `--import tsx` must not be what makes the bundle run
  const { NODE_OPTIONS: _, ...env } = process.env;
  const { stdout } = await run(a!.command, [...a!.args], { env: { ...env, CAROTENE_APP_FILE: shopApp }, cwd: dataDir });
  assert.deepEqual(JSON.parse(stdout), {
    app: 'shop',
    services: ['users', 'catalog', 'orders', 'payments', 'notifications'],
    typescriptLoader: '--enable-source-maps',
  });
});

test('a second start replaces the bundles of the first', async () => {
  await bundledPlan(plan([spec('a', childCommand(printApp))]), shopApp, dataDir);
  await bundledPlan(plan([spec('a', childCommand(printApp))]), shopApp, dataDir);
  assert.equal(readdirSync(join(dataDir, 'bundle')).length, 1);
});

test('an app that cannot be bundled keeps the tsx commands and says why', async () => {
  const broken = join(dataDir, 'broken-app.ts');
  writeFileSync(broken, 'export default app({ name: "x", services: [ });\n');
  const original = plan([spec('a', childCommand(printApp))]);
  const { plan: same, fallback } = await bundledPlan(original, broken, dataDir);
  assert.equal(same, original);
  assert.match(fallback ?? '', /Build failed|Expected/);
});
