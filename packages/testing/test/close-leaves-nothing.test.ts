import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const FIXTURE = fileURLToPath(new URL('./fixtures/saga-service.fixture.ts', import.meta.url));
/** How long the test file may live on after its last test: tsx's teardown, not a timer. */
const LINGER_MS = 3_000;
/** Past this, the child is killed: it is hanging on something close() left open. */
const GIVE_UP_MS = 45_000;

test('a test file using testService with sagas and events ends as soon as its tests do, without warnings', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carotene-harness-'));
  try {
    const ended = join(dir, 'ended');
    // without NODE_TEST_CONTEXT, which would make the child a subtest of this runner instead of a runner
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', FIXTURE], {
      env: { ...env, HARNESS_ENDED: ended, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), GIVE_UP_MS);
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    const exitedAt = Date.now();
    clearTimeout(killer);
    assert.equal(signal, null, `the test file was still running ${GIVE_UP_MS} ms later; something close() left open keeps it alive:\n${output}`);
    assert.equal(code, 0, output);
    assert.match(output, /# pass 3/);
    const lingered = exitedAt - Number(readFileSync(ended, 'utf8'));
    assert.ok(lingered < LINGER_MS, `the test file lived ${lingered} ms after its tests ended (a timer or handle left open)`);
    // the runner's own complaints: unhandled or late-handled rejections, pending promises, leaked listeners
    assert.doesNotMatch(output, /Warning|still pending|unhandled/i, output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
