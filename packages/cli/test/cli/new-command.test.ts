import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageOfTarball } from '../../src/cli/new-app.ts';
import { CARROT, tempDir } from './helpers.ts';

const CREATE = join(import.meta.dirname, '../../../create-carotene/bin/create-carotene.js');

function run(file: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

test('carrot new --no-install writes the app: a service, its test, a README and the scripts', { timeout: 30_000 }, async () => {
  const dir = join(tempDir(), 'Shop Floor');
  const r = await run(CARROT, 'new', dir, '--no-install');
  assert.equal(r.code, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  assert.equal(manifest.name, 'shop-floor', 'named after the folder, made a valid name');
  assert.deepEqual(Object.keys(manifest.scripts).sort(), ['build', 'dev', 'test', 'typecheck']);
  assert.equal(manifest.dependencies.carotene, '0.2.0');
  assert.equal(manifest.overrides, undefined, 'from the registry, nothing is overridden');
  assert.match(readFileSync(join(dir, 'app.ts'), 'utf8'), /name: 'shop-floor'/);
  for (const f of [
    'services/notes/contract.ts',
    'services/notes/service.ts',
    'services/notes/service.test.ts',
    'services/notes/migrations/0001_init.ts',
    'tsconfig.json',
    '.gitignore',
  ]) {
    assert.ok(readFileSync(join(dir, f), 'utf8').length > 0, f);
  }
  assert.match(readFileSync(join(dir, 'README.md'), 'utf8'), /npm install && npm run dev[\s\S]*npm install && npm test/);
  assert.match(r.stdout, /npm install && npm run dev/);
});

test('npm create carotene runs the same command', { timeout: 30_000 }, async () => {
  const dir = join(tempDir(), 'created');
  const r = await run(CREATE, dir, '--name', 'orders-app', '--no-install');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name, 'orders-app');
});

test('carrot new refuses a folder in use, a bad name, and a package folder without the tarballs', { timeout: 30_000 }, async () => {
  const used = tempDir();
  writeFileSync(join(used, 'keep.txt'), 'mine');
  const inUse = await run(CARROT, 'new', used, '--no-install');
  assert.equal(inUse.code, 1);
  assert.match(inUse.stderr, /is not empty/);
  assert.equal(readFileSync(join(used, 'keep.txt'), 'utf8'), 'mine', 'nothing of the folder touched');

  const badName = await run(CARROT, 'new', join(tempDir(), 'x'), '--name', '9lives', '--no-install');
  assert.equal(badName.code, 2);
  assert.match(badName.stderr, /app name '9lives' must be lowercase letters/);

  const packs = tempDir();
  mkdirSync(join(packs, 'sub'));
  writeFileSync(join(packs, 'carotene-0.2.0.tgz'), '');
  const partial = await run(CARROT, 'new', join(tempDir(), 'y'), '--packages', packs, '--no-install');
  assert.equal(partial.code, 1);
  assert.match(partial.stderr, /no tarball of @carotene\/runtime, @carotene\/gateway, @carotene\/testing, @carotene\/cli/);
});

test('tarballs are matched to their packages by npm pack names', () => {
  assert.equal(packageOfTarball('carotene-0.2.0.tgz'), 'carotene');
  assert.equal(packageOfTarball('carotene-runtime-0.2.0.tgz'), '@carotene/runtime');
  assert.equal(packageOfTarball('carotene-cli-1.0.0-rc.1.tgz'), '@carotene/cli');
  assert.equal(packageOfTarball('create-carotene-0.2.0.tgz'), undefined);
  assert.equal(packageOfTarball('carotene.tgz'), undefined);
});
