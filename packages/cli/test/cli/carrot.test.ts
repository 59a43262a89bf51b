import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { CliError } from '../../src/cli/command.ts';
import { reservePorts } from '../../src/cli/ports.ts';
import { CARROT, tempDir } from './helpers.ts';

const APP = fileURLToPath(new URL('./fixtures/app', import.meta.url));
const NOT_AN_APP = fileURLToPath(new URL('./fixtures/not-an-app', import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function carrot(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CARROT, ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

test('carrot --help prints the commands and exits 0', { timeout: 20_000 }, async () => {
  const r = await carrot('--help');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: carrot <command>/);
  assert.match(r.stdout, /^ {2}dev {2,}Run every service/m);
  assert.match(r.stdout, /^ {2}certs {2,}Rotate the certificates/m);
  assert.equal(r.stderr, '');
});

test('carrot dev --help prints the options of dev and exits 0', { timeout: 20_000 }, async () => {
  const r = await carrot('dev', '--help');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: carrot dev \[appDir\]/);
  assert.match(r.stdout, /--data-dir/);
});

test('an unknown command gives one line and the usage on stderr, exit 2', { timeout: 20_000 }, async () => {
  const r = await carrot('deploy');
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.split('\n')[0], "carrot: unknown command 'deploy'");
  assert.match(r.stderr, /Usage: carrot <command>/);
});

test('a bad flag gives one line and the command usage, exit 2', { timeout: 20_000 }, async () => {
  const unknown = await carrot('dev', '--verbose');
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr.split('\n')[0], "carrot dev: unknown option '--verbose'");
  assert.match(unknown.stderr, /Usage: carrot dev/);
  const badPort = await carrot('dev', APP, '--port', 'eighty');
  assert.equal(badPort.code, 2);
  assert.equal(badPort.stderr.split('\n')[0], "carrot dev: --port must be a number from 0 to 65535, got 'eighty'");
});

test('carrot without a command is a usage error', { timeout: 20_000 }, async () => {
  const r = await carrot();
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^carrot: missing command/);
});

test('carrot dev in a folder without an app module fails with exit 1', { timeout: 20_000 }, async () => {
  const dir = tempDir();
  const r = await carrot('dev', dir);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), `carrot dev: no app module in ${dir}: expected app.ts or carotene.app.ts with \`export default app({...})\``);
});

test('carrot dev refuses a module whose default export is not an app', { timeout: 20_000 }, async () => {
  const r = await carrot('dev', NOT_AN_APP);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /carotene\.app\.ts must `export default app\(\{\.\.\.\}\)`; its default export is a service declaration, not an app/);
});

test('carrot dev fails before spawning anything when the gateway port is taken', { timeout: 20_000 }, async (t) => {
  const holder = createServer();
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  t.after(() => holder.close());
  const port = (holder.address() as { port: number }).port;
  const dataDir = join(tempDir(), 'data');

  const r = await carrot('dev', APP, '--port', String(port), '--data-dir', dataDir);

  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), `carrot dev: port ${port} is already in use; stop what holds it or pass --port`);
  assert.ok(!existsSync(join(dataDir, 'registry.json')), 'nothing written, nothing spawned');
  assert.ok(!existsSync(join(dataDir, 'logs')), 'no process was started');
});

test('reservePorts gives distinct free ports and names a taken gateway port', { timeout: 10_000 }, async (t) => {
  const ports = await reservePorts({ host: '127.0.0.1', port: 0 }, 5);
  assert.equal(new Set([ports.gateway, ...ports.services]).size, 6);
  const holder = createServer();
  holder.listen(ports.gateway, '127.0.0.1');
  await once(holder, 'listening');
  t.after(() => holder.close());
  await assert.rejects(reservePorts({ host: '127.0.0.1', port: ports.gateway }, 2), (err: unknown) => {
    assert.ok(err instanceof CliError);
    assert.equal(err.message, `port ${ports.gateway} is already in use; stop what holds it or pass --port`);
    return true;
  });
});
