import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { tlsFiles } from '../../../runtime/src/security/cert-paths.ts';
import { ensureCertificates } from '../../../runtime/src/security/cert-store.ts';
import { grpcHealthCheck } from '../../src/dashboard/grpc-health.ts';
import { alive, CARROT, tempDir } from './helpers.ts';

// End to end: `carrot dev` runs an external service (a standalone @grpc/grpc-js server,
// fixtures/external-app/ranker.mjs) beside a Carotene one, and waits for it through grpc.health.v1.
const APP = fileURLToPath(new URL('./fixtures/external-app', import.meta.url));

/** `carrot dev` of the fixture with `env` over this process's (CI unset unless given). */
function startDev(dataDir: string, env: Record<string, string>, flags: string[] = []) {
  const { CI: _ci, ...inherited } = process.env;
  const carrot = spawn(process.execPath, [CARROT, 'dev', APP, '--port', '0', '--data-dir', dataDir, '--no-dashboard', ...flags], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...inherited, ...env },
  });
  const out = { stdout: '', stderr: '' };
  carrot.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  carrot.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
  const exited = once(carrot, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const waitFor = async (what: RegExp, ms: number): Promise<RegExpMatchArray> => {
    const until = Date.now() + ms;
    for (;;) {
      const m = out.stdout.match(what);
      if (m) return m;
      if (carrot.exitCode !== null || Date.now() > until) assert.fail(`no ${what} in carrot's output:\n${out.stdout}\n${out.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async (): Promise<number | null> => {
    carrot.kill('SIGINT');
    const [code] = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('carrot did not exit')), 15_000).unref())]);
    return code;
  };
  return { carrot, out, exited, waitFor, stop };
}

function readyRows(stdout: string): Array<{ name: string; url: string; pid: number }> {
  return [...stdout.matchAll(/^(\S+)\s+(https?:\/\/127\.0\.0\.1:\d+)(?: \([^)]*\))?\s+ready\s+(\d+)\s+\d+ ms$/gm)].map((m) => ({
    name: m[1]!,
    url: m[2]!,
    pid: Number(m[3]),
  }));
}

for (const layout of [[], ['--monolith']]) {
  test(`carrot dev ${layout.join(' ') || '(a process per service)'} starts an external service, waits for SERVING, and carrot status shows it healthy`, {
    timeout: 90_000,
  }, async (t) => {
    const dataDir = join(tempDir(), 'data');
    const dev = startDev(dataDir, {}, layout);
    const pids: number[] = [];
    t.after(() => {
      dev.carrot.kill('SIGKILL');
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    });
    await dev.waitFor(/Ctrl-C stops everything\./, 60_000);
    const rows = readyRows(dev.out.stdout);
    assert.deepEqual(
      rows.map((r) => r.name),
      [layout.length ? 'monolith' : 'echo', 'ranker', 'gateway'],
      dev.out.stdout,
    );
    const ranker = rows.find((r) => r.name === 'ranker')!;
    pids.push(...rows.map((r) => r.pid));
    assert.match(dev.out.stdout, new RegExp(`^external {3}ranker: gRPC at ${ranker.url}$`, 'm'));

    // in the registry as a gRPC service; its certificate names it
    const registry = JSON.parse(readFileSync(join(dataDir, 'registry.json'), 'utf8'));
    assert.deepEqual(registry.services.ranker, { url: ranker.url, instances: [{ url: ranker.url }], protocol: 'grpc' });
    assert.equal(registry.services.echo.protocol, undefined);
    const cert = spawnSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', join(dataDir, 'certs', 'ranker.crt')], { encoding: 'utf8' });
    assert.match(cert.stdout, /URI:spiffe:\/\/external-app\/ranker/);

    // what it was told, in its own environment (its first log line)
    const told = JSON.parse(readFileSync(join(dataDir, 'logs', 'ranker.log'), 'utf8').split('\n')[0]!) as { cwd: string; env: Record<string, string> };
    assert.equal(told.cwd, APP);
    const tls = tlsFiles(dataDir, 'ranker');
    assert.deepEqual(told.env, {
      RANKER_GREETING: 'hello',
      CAROTENE_SERVICE: 'ranker',
      CAROTENE_APP: 'external-app',
      CAROTENE_ALLOWED_CALLERS: 'echo,gateway',
      CAROTENE_HOST: '127.0.0.1',
      CAROTENE_PORT: new URL(ranker.url).port,
      CAROTENE_DATA_DIR: dataDir,
      CAROTENE_REGISTRY: join(dataDir, 'registry.json'),
      CAROTENE_LOG_LEVEL: 'info',
      CAROTENE_TLS_CA: tls.ca,
      CAROTENE_TLS_CERT: tls.cert,
      CAROTENE_TLS_KEY: tls.key,
      CAROTENE_PROTO_DIR: join(APP, 'proto'),
      CAROTENE_PEER_ECHO_URL: registry.services.echo.url,
      CAROTENE_PEER_ECHO_PROTOCOL: 'carotene',
    });

    // mutual TLS: SERVING to carrot's certificate, nothing without one the app's CA signed
    assert.deepEqual(await grpcHealthCheck(ranker.url, tlsFiles(dataDir, 'carrot')), { status: 'SERVING' });
    const elsewhere = join(tempDir(), 'other');
    await ensureCertificates(elsewhere, 'other-app', ['carrot']);
    const stranger = tlsFiles(elsewhere, 'carrot');
    const refused = await grpcHealthCheck(ranker.url, { ca: tls.ca, cert: stranger.cert, key: stranger.key });
    assert.ok('error' in refused, JSON.stringify(refused));

    const status = spawnSync(process.execPath, [CARROT, 'status', APP, '--data-dir', dataDir, '--window', '0'], { encoding: 'utf8' });
    assert.equal(status.status, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /^external-app \(development, local processes\): healthy$/m);
    assert.match(status.stdout, /^ {2}ranker\s+healthy\s+1\/1 ready {2}\(external · gRPC\)$/m);

    // restarted on a crash, like any service
    process.kill(ranker.pid, 'SIGKILL');
    await dev.waitFor(/^\[ranker\] was killed by SIGKILL; restarting in 250 ms/m, 10_000);
    const [, newPid] = await dev.waitFor(/^\[ranker\] ready again \(pid (\d+)/m, 30_000);
    pids.push(Number(newPid));

    assert.equal(await dev.stop(), 0, dev.out.stderr);
    assert.deepEqual(
      pids.map(alive),
      pids.map(() => false),
    );
    assert.equal(dev.out.stderr, '');
  });
}

test('a failing pre-flight check says what is missing and the hint, and the rest of the app runs', { timeout: 90_000 }, async (t) => {
  const dataDir = join(tempDir(), 'data');
  const dev = startDev(dataDir, { RANKER_CHECK_FAILS: '3' });
  t.after(() => dev.carrot.kill('SIGKILL'));
  await dev.waitFor(/Ctrl-C stops everything\./, 60_000);
  assert.match(
    dev.out.stderr,
    /^carrot dev: external service 'ranker': its pre-flight check `.+ -e "process\.exit\(Number\(process\.env\.RANKER_CHECK_FAILS \?\? 0\)\)"` exited with code 3; install the ranker with: npm install @grpc\/grpc-js$/m,
  );
  assert.match(dev.out.stderr, /^carrot dev: running the app without 'ranker'; calls to it fail as UNAVAILABLE$/m);
  assert.deepEqual(
    readyRows(dev.out.stdout).map((r) => r.name),
    ['echo', 'gateway'],
  );
  const registry = JSON.parse(readFileSync(join(dataDir, 'registry.json'), 'utf8'));
  assert.deepEqual(Object.keys(registry.services), ['echo']);
  assert.equal(await dev.stop(), 0);
});

test('with CI=true, a missing command stops carrot dev with a non-zero exit and nothing runs', { timeout: 60_000 }, async (t) => {
  const dataDir = join(tempDir(), 'data');
  const dev = startDev(dataDir, { CI: 'true', RANKER_COMMAND: '/nonexistent/python3' });
  t.after(() => dev.carrot.kill('SIGKILL'));
  const [code] = await dev.exited;
  assert.equal(code, 1, dev.out.stdout + dev.out.stderr);
  assert.match(
    dev.out.stderr,
    /external service 'ranker': its command '\/nonexistent\/python3' \(dev\.command\) does not exist or is not executable; install the ranker with: npm install @grpc\/grpc-js/,
  );
  assert.match(dev.out.stderr, /an external service cannot start; with CI=true nothing is started/);
  assert.doesNotMatch(dev.out.stdout, /starting 'external-app'/);
});
