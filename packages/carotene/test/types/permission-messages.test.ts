// What tsc says about a handler's permission mistakes: the sentence naming the permission
// to add, not a dump of the context's type. Runs tsc on fixtures/permission-mistakes.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..', '..');

test('permission mistakes compile to errors that name the permission to add', { timeout: 60_000 }, () => {
  const tsc = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(here, 'fixtures', 'tsconfig.json'), '--pretty', 'false'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  const out = tsc.stdout + tsc.stderr;
  assert.equal(tsc.status, 2, `tsc should fail on the fixture's mistakes:\n${out}`);
  const errors = out.split('\n').filter((l) => l.includes('error TS'));
  assert.equal(errors.length, 3, out);
  // one line each, pointing at the mistake's line of the fixture
  assert.match(errors[0]!, /permission-mistakes\.ts\(13,\d+\).*add 'members' to this handler's calls/);
  assert.match(errors[1]!, /permission-mistakes\.ts\(14,\d+\).*add 'orders' to this handler's reads or updates/);
  assert.match(out, /permission-mistakes\.ts\(15,\d+\)[\s\S]*add 'ledger' to this handler's updates to write it/);
  // the sentence is the type shown, not buried in the context's type
  assert.doesNotMatch(out, /HandlerStore|HandlerCalls|ReadHandle</);
});
