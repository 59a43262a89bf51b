// `carrot bundle`, what a container image's build stage runs, and the files it writes run as
// a container runs them: plain node, no TypeScript loader, the app found through the bundle.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { probe } from '../../src/cli/readiness.ts';
import { tlsFiles } from '../../../runtime/src/security/cert-paths.ts';
import { ensureCertificates } from '../../../runtime/src/security/cert-store.ts';
import { freePort } from '../../../../examples/shop/test/shop-process.ts';

const run = promisify(execFile);
const carrot = fileURLToPath(new URL('../../bin/carrot.js', import.meta.url));
const shopDir = fileURLToPath(new URL('../../../../examples/shop', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'carotene-bundle-cmd-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const out = join(dir, 'bundle');
// what the image sets (build/dockerfile.ts), and no NODE_OPTIONS: the test runner's tsx must not help
const { NODE_OPTIONS: _, ...inherited } = process.env;
const container = (service: string, extra: Record<string, string> = {}) => ({
  ...inherited,
  CAROTENE_APP_FILE: join(shopDir, 'app.ts'),
  CAROTENE_SERVICE: service,
  CAROTENE_DATA_DIR: join(dir, 'data'),
  ...extra,
});

test('carrot bundle writes the service, gateway and migration entries; a migration runs from them and exits', async () => {
  const { stdout } = await run(process.execPath, [carrot, 'bundle', shopDir, '--out', out]);
  assert.match(stdout, /wrote service\.mjs, gateway\.mjs, migrate\.mjs of 'shop'/);
  for (const f of ['service.mjs', 'gateway.mjs', 'migrate.mjs']) assert.ok(existsSync(join(out, f)), f);
  const migrated = await run(process.execPath, ['--enable-source-maps', join(out, 'migrate.mjs')], { env: container('catalog'), cwd: dir });
  assert.match(migrated.stdout, /"migrations":\["0001_init"/);
  assert.ok(existsSync(join(dir, 'data', 'db', 'catalog.sqlite')));
});

test('a bundled service starts and answers /ready over mutual TLS', async () => {
  await ensureCertificates(join(dir, 'data'), 'shop', ['catalog', 'gateway']);
  const registry = join(dir, 'data', 'registry.json');
  writeFileSync(registry, JSON.stringify({ app: 'shop', gateway: { url: 'http://127.0.0.1:1' }, services: {} }));
  const port = await freePort();
  const child = spawn(process.execPath, ['--enable-source-maps', join(out, 'service.mjs')], {
    env: container('catalog', { CAROTENE_PORT: String(port), CAROTENE_REGISTRY: registry, CAROTENE_LOG_LEVEL: 'warn' }),
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    let answer: number | string = 'not probed';
    for (const deadline = Date.now() + 20_000; Date.now() < deadline && answer !== 200; ) {
      assert.equal(child.exitCode, null, `the service exited: ${stderr}`);
      answer = await probe(`https://127.0.0.1:${port}/ready`, 1_000, tlsFiles(join(dir, 'data'), 'gateway'));
      if (answer !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(answer, 200, stderr);
  } finally {
    child.kill('SIGTERM');
  }
});

test('carrot bundle without --out is a usage error', async () => {
  await assert.rejects(
    run(process.execPath, [carrot, 'bundle', shopDir]),
    (err: { code?: number; stderr?: string }) => err.code === 2 && /--out <dir> is required/.test(err.stderr ?? ''),
  );
});
