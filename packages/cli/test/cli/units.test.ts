import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Backoff } from '../../src/cli/backoff.ts';
import { formatErrorLine, LineSplitter, parseErrorLine } from '../../src/cli/child-output.ts';
import { tailLines } from '../../src/cli/log-tail.ts';
import { formatReadyTable } from '../../src/cli/ready-table.ts';
import { tempDir } from './helpers.ts';

test('backoff doubles up to the ceiling and starts over after a long enough run', () => {
  const b = new Backoff({ initialMs: 250, maxMs: 1_000, resetAfterMs: 30_000 });
  assert.deepEqual([b.next(0), b.next(10), b.next(0), b.next(0)], [250, 500, 1_000, 1_000]);
  assert.equal(b.next(30_000), 250);
  assert.equal(b.next(0), 500);
});

test('error and fatal JSON lines are recognised with their code; others are ignored', () => {
  const error = parseErrorLine('{"level":50,"msg":"call failed","service":"orders","err":{"code":"UNAVAILABLE"}}');
  assert.deepEqual(error, { level: 50, msg: 'call failed', code: 'UNAVAILABLE' });
  assert.equal(formatErrorLine('orders', error!), '[orders] call failed (UNAVAILABLE)');
  const fatal = parseErrorLine('{"level":60,"err":{"message":"no database"}}');
  assert.equal(formatErrorLine('users', fatal!), '[users] fatal: no database');
  assert.equal(parseErrorLine('{"level":30,"msg":"listening"}'), undefined);
  assert.equal(parseErrorLine('Error: plain text'), undefined);
  assert.equal(parseErrorLine('{not json'), undefined);
  // a line whose level is not its first field (another logger's) is still read whole
  assert.deepEqual(parseErrorLine('{"msg":"disk full","level":50,"code":"ENOSPC"}'), { level: 50, msg: 'disk full', code: 'ENOSPC' });
});

test('the line splitter keeps partial lines until they end', () => {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  s.push('a\nb');
  s.push('c\n');
  s.push('d');
  assert.deepEqual(lines, ['a', 'bc']);
  s.flush();
  assert.deepEqual(lines, ['a', 'bc', 'd']);
});

test('the ready table aligns its columns', () => {
  const lines = formatReadyTable([
    { name: 'users', url: 'http://127.0.0.1:4001', state: 'ready', pid: 12, startupMs: 310 },
    { name: 'gateway', url: 'http://127.0.0.1:8080', state: 'ready', pid: 12345, startupMs: 1020 },
  ]);
  assert.deepEqual(lines, [
    'service  url                    state  pid    start-up',
    'users    http://127.0.0.1:4001  ready  12     310 ms',
    'gateway  http://127.0.0.1:8080  ready  12345  1020 ms',
  ]);
});

test('the log tail shows the last lines written since an offset', async () => {
  const file = join(tempDir(), 'x.log');
  writeFileSync(file, 'old run\n');
  const offset = 'old run\n'.length;
  appendFileSync(file, Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
  const tail = await tailLines(file, 20, offset);
  assert.equal(tail.length, 20);
  assert.equal(tail[0], 'line 11');
  assert.equal(tail.at(-1), 'line 30');
  assert.deepEqual(await tailLines(file, 20, (await import('node:fs')).statSync(file).size), []);
  assert.deepEqual(await tailLines(join(tempDir(), 'missing.log'), 20), []);
});
