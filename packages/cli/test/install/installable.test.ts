// A team's first ten minutes, for real: every package packed, a fresh folder outside the
// repository, only the tarballs (plus registry dependencies) installed by `carrot new`, the
// new app type-checked, tested, started and called through its gateway, built, and its
// Dockerfile's build commands run as they would in the image.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../cli/helpers.ts';

/** Polls `check` until it holds, for at most `timeoutMs`. */
async function waitFor(check: () => Promise<boolean>, o: { timeoutMs: number; what: () => string }): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${o.timeoutMs} ms waiting for ${o.what()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const repo = resolve(import.meta.dirname, '../../../..');
const PACKAGES = [
  'carotene',
  '@carotene/runtime',
  '@carotene/gateway',
  '@carotene/testing',
  '@carotene/cli',
  '@carotene/postgres',
  '@carotene/jetstream',
  '@carotene/redis',
];

// the app runs on the built packages as a user's would: no `source` condition, no tsx preloaded
// (and not as a subtest of this run: NODE_TEST_CONTEXT would send the app's test results here)
const { NODE_OPTIONS: _options, NODE_TEST_CONTEXT: _context, ...plainEnv } = process.env;
const env = { ...plainEnv, npm_config_update_notifier: 'false' };

function sh(command: string, args: readonly string[], options: SpawnSyncOptions = {}): string {
  const r = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024, timeout: 300_000, ...options });
  assert.equal(r.status, 0, `${command} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${String(r.stdout).slice(-3000)}\n${String(r.stderr).slice(-3000)}`);
  return String(r.stdout);
}

describe('installable from packed tarballs, outside the repository', { timeout: 900_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'carotene-install-'));
  const packs = join(root, 'packs');
  const appDir = join(root, 'my-app');
  const timings: string[] = [];
  const timed = <T>(what: string, f: () => T): T => {
    const t0 = performance.now();
    try {
      return f();
    } finally {
      timings.push(`${what} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  };

  before(() => {
    timed('build', () => sh('npm', ['run', 'build'], { cwd: repo }));
    mkdirSync(packs);
    timed('pack', () => sh('npm', ['pack', '--silent', '--pack-destination', packs, ...PACKAGES.flatMap((p) => ['-w', p])], { cwd: repo }));
  });
  after(() => {
    process.stdout.write(`# installable: ${timings.join(', ')}\n`);
    rmSync(root, { recursive: true, force: true });
  });

  it('packs every package as built JavaScript with declarations, and nothing of the tests', () => {
    const tarballs = readdirSync(packs).sort();
    assert.deepEqual(tarballs, [
      'carotene-0.2.0.tgz',
      'carotene-cli-0.2.0.tgz',
      'carotene-gateway-0.2.0.tgz',
      'carotene-jetstream-0.2.0.tgz',
      'carotene-postgres-0.2.0.tgz',
      'carotene-redis-0.2.0.tgz',
      'carotene-runtime-0.2.0.tgz',
      'carotene-testing-0.2.0.tgz',
    ]);
    const files = sh('tar', ['-tzf', join(packs, 'carotene-runtime-0.2.0.tgz')]).split('\n');
    assert.ok(files.includes('package/dist/index.js') && files.includes('package/dist/index.d.ts') && files.includes('package/dist/index.js.map'));
    assert.ok(!files.some((f) => f.startsWith('package/test/') || f.endsWith('.tsbuildinfo')), 'no tests or build state shipped');
    const cli = sh('tar', ['-tzf', join(packs, 'carotene-cli-0.2.0.tgz')]).split('\n');
    assert.ok(cli.includes('package/templates/app/app.ts') && cli.includes('package/dist/dashboard/static/index.html'));
  });

  it('scaffolds an app with carrot new that installs from the tarballs alone', () => {
    const started = performance.now();
    timed('carrot new + npm install', () =>
      sh(process.execPath, [join(repo, 'packages/cli/bin/carrot.js'), 'new', appDir, '--packages', packs], { cwd: root }),
    );
    const manifest = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8'));
    assert.match(manifest.dependencies.carotene, /^file:vendor\/carotene\/carotene-0\.2\.0\.tgz$/);
    // the app's Carotene is the packed one, not the repository's source
    const installed = JSON.parse(readFileSync(join(appDir, 'node_modules/@carotene/runtime/package.json'), 'utf8'));
    assert.equal(installed.version, '0.2.0');
    assert.ok(!existsSync(join(appDir, 'node_modules/@carotene/postgres')), 'an app on SQLite installs no PostgreSQL engine');
    assert.ok(
      !existsSync(join(appDir, 'node_modules/pg')) && !existsSync(join(appDir, 'node_modules/ioredis')) && !existsSync(join(appDir, 'node_modules/@nats-io')),
    );
    timed('type-check + npm test', () => {
      const out = sh('npm', ['test'], { cwd: appDir });
      assert.match(out, /# pass 2/);
      assert.match(out, /# fail 0/);
    });
    timings.push(`new app tested ${((performance.now() - started) / 1000).toFixed(1)} s after carrot new`);
  });

  it('runs with carrot dev and answers through the gateway', async () => {
    const port = await freePort();
    const child = spawn('npx', ['--no-install', 'carrot', 'dev', '.', '--port', String(port), '--no-dashboard'], {
      cwd: appDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(`${base}/ready`).catch(() => undefined))?.ok === true, {
        timeoutMs: 60_000,
        what: () => `the gateway at ${base}/ready:\n${output}`,
      });
      const created = await fetch(`${base}/api/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'from a fresh app' }),
      });
      assert.equal(created.status, 201);
      const note = (await created.json()) as { id: string; text: string };
      const read = await fetch(`${base}/api/notes/${note.id}`);
      assert.deepEqual(await read.json(), { ...note });
      const missing = await fetch(`${base}/api/notes/note_nope`);
      assert.equal(missing.status, 404);
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'NOTE_NOT_FOUND');
      const bad = await fetch(`${base}/api/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":' });
      assert.equal(bad.status, 400);
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('builds, and its Dockerfile builds the app from the packages', () => {
    timed('carrot build', () => sh('npx', ['--no-install', 'carrot', 'build', '.', '--env', 'production'], { cwd: appDir }));
    const dockerfile = readFileSync(join(appDir, 'deploy/docker/notes.Dockerfile'), 'utf8');
    // the build stage, after `COPY . .`, as the image would run it: in a copy of the context
    const context = join(root, 'image');
    const ignored = new Set(['node_modules', '.carotene', 'deploy', '.git']);
    cpSync(appDir, context, { recursive: true, filter: (src) => !ignored.has(src.slice(appDir.length + 1).split('/')[0]!) });
    const runs = dockerfile
      .split('FROM ')[1]!
      .split('COPY . .')[1]!
      .match(/^RUN [\s\S]*?[^\\]$/m)![0]!
      .replace(/^RUN /, '')
      .replace(/\\\n/g, ' ');
    timed('Dockerfile build stage', () => sh('sh', ['-c', runs], { cwd: context }));
    const bundle = join(context, '.carotene/bundle');
    for (const entry of ['service.mjs', 'gateway.mjs', 'migrate.mjs']) assert.ok(existsSync(join(bundle, entry)), `${entry} bundled`);
    assert.ok(!existsSync(join(context, 'node_modules/typescript')), 'no dev dependencies in the image');
  });
});
