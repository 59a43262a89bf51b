import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { StartupError, Supervisor, type SupervisorEvents } from '../../src/cli/supervisor.ts';
import { alive, fixture, next, tempDir } from './helpers.ts';

type Ev<K extends keyof SupervisorEvents> = SupervisorEvents[K];

function capture(): { lines: string[]; print: (line: string) => void } {
  const lines: string[] = [];
  return { lines, print: (line) => lines.push(line) };
}

test('every process becomes ready and the table lists each with url, state, pid and start-up time', { timeout: 20_000 }, async (t) => {
  const dir = tempDir();
  const specs = [await fixture(dir, 'users', 'ok'), await fixture(dir, 'orders', 'ok'), await fixture(dir, 'gateway', 'ok')];
  const out = capture();
  const sup = new Supervisor(specs, { print: out.print });
  t.after(() => sup.stop());
  const ready: string[] = [];
  sup.on('ready', (e) => ready.push(e.name));

  const rows = await sup.start();

  assert.deepEqual(ready.sort(), ['gateway', 'orders', 'users']);
  assert.deepEqual(
    rows.map((r) => [r.name, r.state]),
    [
      ['users', 'ready'],
      ['orders', 'ready'],
      ['gateway', 'ready'],
    ],
  );
  for (const r of rows) assert.ok(alive(r.pid), `${r.name} runs`);
  assert.equal(out.lines.length, 4, `one header and three rows, nothing else:\n${out.lines.join('\n')}`);
  assert.match(out.lines[0] ?? '', /^service\s+url\s+state\s+pid\s+start-up$/);
  specs.forEach((spec, i) => {
    const row = rows[i];
    assert.ok(row);
    assert.match(out.lines[i + 1] ?? '', new RegExp(`^${spec.name}\\s+${new URL(spec.readyUrl).origin}\\s+ready\\s+${row.pid}\\s+\\d+ ms$`));
  });
  // the children's output went to their log files
  await sup.stop();
  assert.ok(existsSync(join(dir, 'logs', 'users.log')));
});

test('a crashed process is restarted after the backoff delay and becomes ready again', { timeout: 20_000 }, async (t) => {
  const dir = tempDir();
  const spec = await fixture(dir, 'payments', 'crash-once', { FIXTURE_MARKER: join(dir, 'crashed') });
  const out = capture();
  const sup = new Supervisor([spec], { print: out.print, backoff: { initialMs: 300 } });
  t.after(() => sup.stop());
  const [first] = await sup.start();

  const [crash] = await next<Ev<'crash'>>(sup, 'crash');
  const crashedAt = Date.now();
  assert.equal(crash.pid, first?.pid);
  assert.equal(crash.exit.code, 1);
  assert.equal(crash.restartInMs, 300);
  const [restart] = await next<Ev<'restart'>>(sup, 'restart');
  assert.ok(Date.now() - crashedAt >= 250, 'waited for the backoff delay');
  assert.equal(restart.attempt, 2);
  const [ready] = await next<Ev<'ready'>>(sup, 'ready');
  assert.equal(ready.restarts, 1);
  assert.notEqual(ready.pid, first?.pid);
  assert.ok(alive(ready.pid));
  assert.equal(sup.rows()[0]?.state, 'ready');
  assert.ok(
    out.lines.some((l) => l === `[payments] exited with code 1; restarting in 300 ms (log: ${spec.logFile})`),
    out.lines.join('\n'),
  );
  assert.ok(
    out.lines.some((l) => l.startsWith('[payments] ready again (pid ')),
    out.lines.join('\n'),
  );
});

test('restart delays double while a process keeps crashing', { timeout: 20_000 }, async (t) => {
  const dir = tempDir();
  const sup = new Supervisor([await fixture(dir, 'flaky', 'crash-always')], { print: () => {}, backoff: { initialMs: 50, maxMs: 200 } });
  t.after(() => sup.stop());
  const delays: number[] = [];
  const fourCrashes = new Promise<void>((resolve) =>
    sup.on('crash', (e) => {
      delays.push(e.restartInMs);
      if (delays.length === 4) resolve();
    }),
  );
  await sup.start();
  await Promise.race([fourCrashes, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${delays.length} crashes`)), 15_000).unref())]);
  assert.deepEqual(delays, [50, 100, 200, 200]);
});

test('a process that exits during start-up stops the others and reports the tail of its log', { timeout: 20_000 }, async (t) => {
  const dir = tempDir();
  const specs = [await fixture(dir, 'users', 'ok'), await fixture(dir, 'inventory', 'exit-at-start')];
  const out = capture();
  const sup = new Supervisor(specs, { print: out.print });
  t.after(() => sup.stop());
  const pids = new Map<string, number | undefined>();
  sup.on('spawn', (e) => pids.set(e.name, e.pid));

  const err = await sup.start().then(
    () => assert.fail('start() should fail'),
    (e: unknown) => e,
  );

  assert.ok(err instanceof StartupError);
  assert.equal(err.service, 'inventory');
  assert.match(err.message, /^inventory exited with code 3 before it was ready; stopped everything\./);
  assert.match(err.message, new RegExp(`last 20 lines of ${specs[1]?.logFile}:`));
  assert.equal(err.logTail.length, 20);
  assert.ok(err.message.includes('start-up line 25'));
  assert.ok(err.message.includes('cannot open database'));
  assert.ok(!err.message.includes('start-up line 5\n'), 'only the tail');
  assert.ok(!alive(pids.get('users')), 'the healthy process was stopped');
  assert.equal(sup.stopping, true);
  // its fatal line was also echoed as it happened
  assert.ok(out.lines.includes('[inventory] fatal: cannot open database — INVALID_CONFIG'), out.lines.join('\n'));
  assert.ok(!out.lines.some((l) => l.startsWith('service')), 'no table after a failed start');
});

test('a process that awaits the others is spawned with the first stage and awaited after the last', { timeout: 20_000 }, async (t) => {
  const dir = tempDir();
  const second = { ...(await fixture(dir, 'catalog#2', 'ok')), stage: 0.5 };
  // the gateway is ready only once the later stage is: awaited with the first stage, this start would time out
  const gateway = { ...(await fixture(dir, 'gateway', 'awaits-url', { FIXTURE_AWAIT_URL: second.readyUrl })), awaitsOthers: true };
  const specs = [await fixture(dir, 'catalog', 'ok'), second, gateway];
  const sup = new Supervisor(specs, { print: () => {}, startTimeoutMs: 5_000 });
  t.after(() => sup.stop());
  const events: string[] = [];
  sup.on('spawn', (e) => events.push(`spawn ${e.name}`));
  sup.on('ready', (e) => events.push(`ready ${e.name}`));

  const rows = await sup.start();

  assert.deepEqual(events.slice(0, 2).sort(), ['spawn catalog', 'spawn gateway'], events.join(', '));
  assert.ok(events.indexOf('spawn catalog#2') > events.indexOf('ready catalog'), 'the later stage still waits for the first');
  assert.deepEqual(
    rows.map((r) => r.state),
    ['ready', 'ready', 'ready'],
  );
});

test('a process that awaits the others fails the start as soon as it exits', { timeout: 20_000 }, async (t) => {
  const dir = tempDir();
  const specs = [await fixture(dir, 'catalog', 'never-ready'), { ...(await fixture(dir, 'gateway', 'exit-at-start')), awaitsOthers: true }];
  const sup = new Supervisor(specs, { print: () => {}, startTimeoutMs: 15_000 });
  t.after(() => sup.stop());
  const started = Date.now();
  await assert.rejects(sup.start(), (err: unknown) => err instanceof StartupError && err.service === 'gateway');
  assert.ok(Date.now() - started < 10_000, 'not after the never-ready service timed out');
  assert.equal(sup.stopping, true);
});

test('a process that never becomes ready fails the start after the timeout', { timeout: 20_000 }, async (t) => {
  const dir = tempDir();
  const sup = new Supervisor([await fixture(dir, 'catalog', 'never-ready')], { print: () => {}, startTimeoutMs: 600 });
  t.after(() => sup.stop());
  let pid: number | undefined;
  sup.on('spawn', (e) => (pid = e.pid));
  await assert.rejects(sup.start(), (err: unknown) => {
    assert.ok(err instanceof StartupError);
    assert.match(err.message, /^catalog was not ready after 600 ms \(GET http:\/\/127\.0\.0\.1:\d+\/ready: HTTP 503\)/);
    assert.ok(err.message.includes('"msg":"listening"'), 'log tail included');
    return true;
  });
  assert.ok(!alive(pid));
});

test('stop() ends every child, killing one that ignores SIGTERM after the grace period', { timeout: 20_000 }, async () => {
  const dir = tempDir();
  const specs = [await fixture(dir, 'a', 'ok'), await fixture(dir, 'b', 'ok'), await fixture(dir, 'stubborn', 'ignore-term')];
  const sup = new Supervisor(specs, { print: () => {}, stopTimeoutMs: 500 });
  const rows = await sup.start();
  const pids = rows.map((r) => r.pid);
  assert.ok(pids.every(alive));
  let crashes = 0;
  sup.on('crash', () => (crashes += 1));

  const began = Date.now();
  await sup.stop();

  assert.deepEqual(pids.map(alive), [false, false, false]);
  assert.ok(Date.now() - began >= 450, 'waited the grace period for the stubborn one');
  assert.ok(Date.now() - began < 4_000, 'then killed it');
  assert.equal(crashes, 0, 'a stop is not a crash: nothing restarts');
  assert.deepEqual(
    sup.rows().map((r) => r.state),
    ['stopped', 'stopped', 'stopped'],
  );
  // the graceful ones logged their own shutdown
  const { readFileSync } = await import('node:fs');
  assert.match(readFileSync(specs[0]?.logFile ?? '', 'utf8'), /"msg":"stopping"/);
});

test('error lines from a child are echoed as [service] msg — CODE: message', { timeout: 20_000 }, async (t) => {
  const dir = tempDir();
  const out = capture();
  const sup = new Supervisor([await fixture(dir, 'payments', 'log-error')], { print: out.print });
  t.after(() => sup.stop());
  const logged = next<Ev<'log-error'>>(sup, 'log-error');
  await sup.start();
  const [e] = await logged;
  assert.equal(e.name, 'payments');
  assert.equal(e.code, 'UNAVAILABLE');
  assert.ok(out.lines.includes('[payments] payment provider down — UNAVAILABLE: x'), out.lines.join('\n'));
  assert.ok(!out.lines.some((l) => l.includes('listening')), 'info lines stay in the log file');
});

test('a command that cannot be spawned fails the start with a clear reason', { timeout: 20_000 }, async () => {
  const dir = tempDir();
  const spec = { ...(await fixture(dir, 'ghost', 'ok')), command: join(dir, 'no-such-binary') };
  const sup = new Supervisor([spec], { print: () => {} });
  await assert.rejects(sup.start(), /^StartupError: ghost could not be started \(spawn .*ENOENT\)/);
});
