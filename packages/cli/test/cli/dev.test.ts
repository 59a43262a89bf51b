import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { probe } from '../../src/cli/readiness.ts';
import { tlsFiles } from '../../../runtime/src/security/cert-paths.ts';
import { alive, CARROT, tempDir } from './helpers.ts';

// End to end: the real runtime and gateway, started by `carrot dev` from the bin.
const ECHO_APP = fileURLToPath(new URL('./fixtures/echo-app', import.meta.url));

test('carrot dev runs the app, restarts a killed service, and Ctrl-C stops everything', { timeout: 90_000 }, async (t) => {
  const dataDir = join(tempDir(), 'data');
  const carrot = spawn(process.execPath, [CARROT, 'dev', ECHO_APP, '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  carrot.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  carrot.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = once(carrot, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const pids: number[] = [];
  t.after(() => {
    // if an assertion failed half-way, leave nothing running
    carrot.kill('SIGKILL');
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  const waitFor = async (what: RegExp, ms: number): Promise<RegExpMatchArray> => {
    const until = Date.now() + ms;
    for (;;) {
      const m = stdout.match(what);
      if (m) return m;
      if (carrot.exitCode !== null || Date.now() > until) assert.fail(`no ${what} in carrot's output:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  await waitFor(/Ctrl-C stops everything\./, 60_000);
  const rows = [...stdout.matchAll(/^(\S+)\s+(https?:\/\/127\.0\.0\.1:\d+)\s+ready\s+(\d+)\s+\d+ ms$/gm)].map((m) => ({
    name: m[1],
    url: m[2],
    pid: Number(m[3]),
  }));
  assert.deepEqual(
    rows.map((r) => r.name),
    ['echo', 'gateway'],
    stdout,
  );
  const [echo, gateway] = rows as [(typeof rows)[0], (typeof rows)[0]];
  pids.push(echo.pid, gateway.pid);
  assert.ok(alive(echo.pid) && alive(gateway.pid));
  assert.match(stdout, new RegExp(`^gateway {4}${gateway.url}$`, 'm'));
  assert.match(stdout, /^database {3}echo: .*\/db\/echo\.sqlite$/m);

  const registry = JSON.parse(readFileSync(join(dataDir, 'registry.json'), 'utf8')) as unknown;
  assert.deepEqual(registry, { app: 'echo-app', gateway: { url: gateway.url }, services: { echo: { url: echo.url, instances: [{ url: echo.url }] } } });
  // the service speaks only mutual TLS; the gateway is the one plain, public listener
  assert.match(echo.url ?? '', /^https:/);
  assert.match(gateway.url ?? '', /^http:/);
  const asCarrot = tlsFiles(dataDir, 'carrot');
  assert.equal(await probe(`${echo.url}/ready`, 1_000, asCarrot), 200);
  assert.notEqual(await probe(`${echo.url}/ready`, 1_000, { ...asCarrot, cert: '/nonexistent' }), 200);
  assert.equal(await probe(`${gateway.url}/ready`), 200);
  // created on the first run: the CA and a certificate per identity, private keys readable by the owner only
  const certs = readdirSync(join(dataDir, 'certs')).sort();
  assert.deepEqual(certs, ['ca', 'ca-bundle.pem', 'carrot.crt', 'carrot.key', 'echo.crt', 'echo.key', 'gateway.crt', 'gateway.key']);
  for (const key of ['ca/ca.key', 'echo.key', 'gateway.key', 'carrot.key']) {
    assert.equal(statSync(join(dataDir, 'certs', key)).mode & 0o777, 0o600, key);
  }
  assert.match(stdout, /created the certificate authority of 'echo-app'/);

  process.kill(echo.pid, 'SIGKILL');
  await waitFor(/^\[echo\] was killed by SIGKILL; restarting in 250 ms/m, 10_000);
  const [, newPid] = await waitFor(/^\[echo\] ready again \(pid (\d+)/m, 30_000);
  pids.push(Number(newPid));
  assert.notEqual(Number(newPid), echo.pid);
  assert.equal(await probe(`${echo.url}/ready`, 1_000, asCarrot), 200, 'the restarted service listens on the same port');

  carrot.kill('SIGINT');
  const [code] = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('carrot did not exit')), 15_000).unref())]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /carrot dev: stopped\n$/);
  assert.deepEqual(pids.map(alive), [false, false, false]);
  assert.equal(stderr, '');
});
