// The gateway process as `carrot dev` starts it: environment in, JSON log lines out.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { toEnv } from '../../runtime/src/service/process-env.ts';
import { ensureCertificates } from '../../runtime/src/security/cert-store.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const APP = fileURLToPath(new URL('./fixture-app.ts', import.meta.url));

type Line = Record<string, unknown>;

interface Started {
  readonly child: ChildProcess;
  readonly lines: Line[];
  /** Resolves with the first log line matching `pred`. */
  waitFor(pred: (line: Line) => boolean): Promise<Line>;
  readonly exited: Promise<number | null>;
}

function start(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  const waiters: { pred: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const line = JSON.parse(text) as Line;
      lines.push(line);
      for (const w of waiters.filter((w) => w.pred(line))) w.resolve(line);
    }
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitFor: (pred) => {
      const seen = lines.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ pred, resolve });
        void exited.then((code) => reject(new Error(`gateway exited (${code}) first; stdout: ${JSON.stringify(lines)} stderr: ${stderr}`)));
      });
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('gateway process', () => {
  let dir: string;
  let registryFile: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'carotene-gateway-'));
    registryFile = join(dir, 'registry.json');
    // the gateway calls services over mutual TLS with its own certificate (default place under the data folder)
    await ensureCertificates(dir, 'test-shop', ['gateway']);
    const dead = await freePort(); // nothing listens here: every service is down
    await writeFile(
      registryFile,
      JSON.stringify({ app: 'test-shop', gateway: { url: 'http://127.0.0.1:0' }, services: { things: { url: `https://127.0.0.1:${dead}` } } }),
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const envFor = (port: number, appFile = APP) =>
    toEnv({ appFile, service: 'gateway', host: '127.0.0.1', port, dataDir: dir, registryFile, databaseUrl: undefined, logLevel: 'info' });

  it('listens, serves, reports an unreachable service as 503, and stops cleanly on SIGTERM', async () => {
    const gw = start(envFor(0));
    try {
      const listening = await gw.waitFor((l) => l['msg'] === 'gateway listening');
      const url = String(listening['url']);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.ok((listening['routes'] as string[]).includes('GET /api/things/:id'));

      assert.equal((await fetch(`${url}/health`)).status, 200);
      assert.equal((await fetch(`${url}/ready`)).status, 200);
      const down = await fetch(`${url}/api/things`, { headers: { 'x-request-id': 'proc-1' } });
      assert.equal(down.status, 503);
      const body = (await down.json()) as { error: { code: string; requestId: string } };
      assert.equal(body.error.code, 'UNAVAILABLE');
      assert.equal(body.error.requestId, 'proc-1');
      const access = await gw.waitFor((l) => l['msg'] === 'request' && l['requestId'] === 'proc-1');
      assert.equal(access['status'], 503);
      assert.equal(access['service'], 'gateway');

      gw.child.kill('SIGTERM');
      assert.equal(await gw.exited, 0);
      assert.ok(gw.lines.some((l) => l['msg'] === 'gateway stopped'));
    } finally {
      gw.child.kill('SIGKILL');
    }
  });

  it('exits non-zero saying the port is taken when it is', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const { port } = squatter.address() as AddressInfo;
    try {
      const gw = start(envFor(port));
      assert.equal(await gw.exited, 1);
      const fatal = gw.lines.find((l) => l['level'] === 60 || l['levelName'] === 'fatal');
      assert.ok(fatal, `a fatal line, got ${JSON.stringify(gw.lines)}`);
      assert.match(String(fatal['msg']), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already taken`));
      assert.equal(fatal['code'], 'EADDRINUSE');
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('exits non-zero when the app module has no app default export', async () => {
    const gw = start(envFor(0, fileURLToPath(new URL('./fixtures.ts', import.meta.url))));
    assert.equal(await gw.exited, 1);
    assert.ok(
      gw.lines.some((l) => /must `export default app\(\{\.\.\.\}\)`/.test(String(l['msg']))),
      JSON.stringify(gw.lines),
    );
  });

  it('exits non-zero when the environment is incomplete', async () => {
    const gw = start({ CAROTENE_PORT: '', CAROTENE_APP_FILE: '' });
    assert.equal(await gw.exited, 1);
    assert.ok(
      gw.lines.some((l) => /CAROTENE_PORT is required/.test(String(l['msg']))),
      JSON.stringify(gw.lines),
    );
  });
});
