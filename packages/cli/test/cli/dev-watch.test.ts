import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { GREETER_CONTRACT, GREETER_SERVICE, tempApp } from '../../../runtime/test/support/temp-app.ts';
import { CARROT, freePort } from './helpers.ts';

// End to end: `carrot dev --watch` on a copy of a small app, edited as a user would.
test('carrot dev --watch restarts a changed service, keeps it while a change has type errors, and restarts callers of a changed contract', {
  timeout: 180_000,
}, async (t) => {
  const a = tempApp();
  const port = await freePort();
  const carrot = spawn(process.execPath, [CARROT, 'dev', a.dir, '--port', String(port), '--no-dashboard', '--watch'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CAROTENE_BUNDLE_CACHE: join(a.dir, 'bundles') },
  });
  let stdout = '';
  let stderr = '';
  carrot.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  carrot.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  t.after(() => {
    carrot.kill('SIGTERM');
    rmSync(a.dir, { recursive: true, force: true });
  });

  /** Polls `check` every 100 ms until it returns something, failing after `ms`. */
  const until = async <T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 90_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (carrot.exitCode !== null || Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const post = async (path: string): Promise<unknown> => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"ann"}' });
      return res.ok ? await res.json() : undefined;
    } catch {
      return undefined; // the gateway restarting
    }
  };
  const greets = (text: string) => async () => ((await post('/api/greet')) === text ? true : undefined);
  const relay = async () => (await post('/api/relay')) as { said: string; pid: number } | undefined;
  const lines = () => stdout.split('\n').length;

  await until('watching', () => (/watching \d+ files of 2 services/.test(stdout) ? true : undefined), 90_000);
  const before = await until('a first relay', relay);
  assert.equal(before.said, 'hello ann');

  // a handler's new return value: its service restarts, its caller does not
  a.write('services/greeter/service.ts', GREETER_SERVICE('howdy'));
  await until('the new greeting', greets('howdy ann'));
  assert.match(stdout, /services\/greeter\/service\.ts changed; restarting greeter, gateway\n/);
  assert.equal((await until('a relay', relay)).pid, before.pid, "front does not run the greeter's handlers: it keeps running");

  // a change with a type error: diagnostics, and the running greeter keeps its code (the
  // restarts above may be announced after the answer came through: wait for both first)
  await until('the restarts announced', () => (/\[greeter\] ready again/.test(stdout) && /\[gateway\] ready again/.test(stdout) ? true : undefined));
  const mark = lines();
  a.write('services/greeter/service.ts', GREETER_SERVICE('oops', 'number'));
  await until('the type errors', () =>
    /2 type errors \(tsc, [\d.]+ s\) after .*service\.ts changed; greeter keeps running the code it had/.test(stdout) ? true : undefined,
  );
  assert.match(stderr, /services\/greeter\/service\.ts\(5,\d+\): error TS2322/);
  assert.equal(await post('/api/greet'), 'howdy ann');
  assert.doesNotMatch(stdout.split('\n').slice(mark).join('\n'), /ready again/);

  // the fix, and a changed contract: it restarts its provider and the service that calls it
  a.write('services/greeter/service.ts', GREETER_SERVICE('hey'));
  a.write('services/greeter/contract.ts', GREETER_CONTRACT(', loud: z.boolean().optional()'));
  const after = await until('front restarted', async () => {
    const r = await relay();
    return r && r.pid !== before.pid ? r : undefined;
  });
  assert.equal(after.said, 'hey ann');
  assert.match(stdout, /services\/greeter\/contract\.ts changed; restarting greeter, front, gateway\n/);
  // the answer can come through before the supervisor's line about it
  await until('front announced', () => (/\[front\] ready again \(pid \d+/.test(stdout) ? true : undefined));
});
