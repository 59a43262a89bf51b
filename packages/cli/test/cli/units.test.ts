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

test('warn, error and fatal JSON lines are recognised with their code and message; others are ignored', () => {
  const error = parseErrorLine('{"level":50,"msg":"call failed","service":"orders","err":{"code":"UNAVAILABLE","message":"inventory is unreachable"}}');
  assert.deepEqual(error, { level: 50, msg: 'call failed', code: 'UNAVAILABLE', message: 'inventory is unreachable' });
  assert.equal(formatErrorLine('orders', error!), '[orders] call failed — UNAVAILABLE: inventory is unreachable');
  const fatal = parseErrorLine('{"level":60,"err":{"message":"no database"}}');
  assert.equal(formatErrorLine('users', fatal!), '[users] fatal: no database');
  assert.equal(parseErrorLine('{"level":30,"msg":"listening"}'), undefined);
  assert.equal(parseErrorLine('Error: plain text'), undefined);
  assert.equal(parseErrorLine('{not json'), undefined);
  // a line whose level is not its first field (another logger's) is still read whole
  assert.deepEqual(parseErrorLine('{"msg":"disk full","level":50,"code":"ENOSPC"}'), { level: 50, msg: 'disk full', code: 'ENOSPC', message: undefined });
});

test("the lines Carotene's processes write show their code and message on the dev terminal", () => {
  const shown = (service: string, line: string) => formatErrorLine(service, parseErrorLine(line)!);
  // the gateway's access line of a failed request: the code in `error`, the real message beside it
  assert.equal(
    shown(
      'gateway',
      '{"level":50,"levelName":"error","service":"gateway","method":"POST","route":"/api/loans/:id","status":500,"requestId":"r1","error":"INTERNAL","message":"loans.lend failed; see its log","msg":"request"}',
    ),
    '[gateway] request — INTERNAL: loans.lend failed; see its log',
  );
  // a handler that threw a plain error: pino writes it as { type, message, stack }
  assert.equal(
    shown(
      'loans',
      '{"level":50,"service":"loans","handler":"lend","code":"INTERNAL","err":{"type":"TypeError","message":"Cannot read properties of undefined (reading \'id\')","stack":"TypeError: ..."},"msg":"handler threw"}',
    ),
    "[loans] handler threw — INTERNAL: Cannot read properties of undefined (reading 'id')",
  );
  // without a code, the error's type stands in for it
  assert.equal(shown('loans', '{"level":50,"err":{"type":"RangeError","message":"bad"},"msg":"shutdown failed"}'), '[loans] shutdown failed — RangeError: bad');
  // an error given as a string, and a warning with its reason
  assert.equal(
    shown('orders', '{"level":50,"code":"UNAVAILABLE","err":"payments is down","msg":"saga compensation failed; retrying"}'),
    '[orders] saga compensation failed; retrying — UNAVAILABLE: payments is down',
  );
  assert.equal(
    shown('orders', '{"level":40,"code":"SAGA_STEP_FAILED","reason":"card declined","msg":"saga compensates"}'),
    '[orders] warn: saga compensates — SAGA_STEP_FAILED: card declined',
  );
  assert.equal(
    shown('orders', '{"level":40,"handler":"checkout","code":"NOT_PENDING","message":"Order o1 is already CONFIRMED","msg":"call failed"}'),
    '[orders] warn: call failed — NOT_PENDING: Order o1 is already CONFIRMED',
  );
  // a message the msg already holds is not repeated
  assert.equal(
    shown(
      'users',
      '{"level":60,"code":"INVALID_CONFIG","err":{"type":"CaroteneError","code":"INVALID_CONFIG","message":"no database"},"msg":"users failed to start: no database"}',
    ),
    '[users] fatal: users failed to start: no database — INVALID_CONFIG',
  );
  // a line with nothing more than its message stays as it is
  assert.equal(
    shown('gateway', '{"level":40,"msg":"gateway listening although some services are not ready yet"}'),
    '[gateway] warn: gateway listening although some services are not ready yet',
  );
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
