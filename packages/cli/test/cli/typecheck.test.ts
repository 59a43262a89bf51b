import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { carrot } from '../build/run-carrot.ts';
import { GREETER_SERVICE, tempApp, type TempApp } from '../../../runtime/test/support/temp-app.ts';

const apps: TempApp[] = [];
after(() => {
  for (const a of apps) rmSync(a.dir, { recursive: true, force: true });
});

/** The temp app with `greet` declared to return a number while its contract says string. */
function mistyped(options: { tsconfig?: boolean } = {}): TempApp {
  const a = tempApp(options);
  a.write('services/greeter/service.ts', GREETER_SERVICE('hello', 'number'));
  apps.push(a);
  return a;
}

describe('type check before building and running', { timeout: 120_000 }, () => {
  it("carrot build refuses an app with a type error, printing tsc's diagnostic, and writes nothing", async () => {
    const a = mistyped();
    const r = await carrot(['build', a.dir, '--env', 'development', '--image-tag', '1.0.0']);
    assert.equal(r.code, 1, r.out.join('\n'));
    const err = r.err.join('\n');
    assert.match(err, /services\/greeter\/service\.ts\(5,\d+\): error TS2322: Type 'Promise<number>' is not assignable/);
    assert.match(err, /carrot build: 2 type errors \(tsc, [\d.]+ s\) in 'temp-app'; nothing was written \(--no-typecheck skips the check\)/);
    assert.equal(existsSync(join(a.dir, 'deploy')), false);
  });

  it('carrot build --no-typecheck builds the same app', async () => {
    const a = mistyped();
    const r = await carrot(['build', a.dir, '--env', 'development', '--image-tag', '1.0.0', '--no-typecheck']);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.doesNotMatch(r.out.join('\n'), /type/);
    assert.ok(existsSync(join(a.dir, 'deploy', 'kubernetes', 'development.yaml')));
  });

  it("carrot build type-checks a correct app, keeping tsc's incremental state in the data folder", async () => {
    const a = tempApp();
    apps.push(a);
    const r = await carrot(['build', a.dir, '--env', 'development', '--image-tag', '1.0.0']);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.match(r.out[0] ?? '', /^carrot build: type-checked in [\d.]+ s$/);
    assert.ok(existsSync(join(a.dir, '.carotene', 'typecheck.tsbuildinfo')));
  });

  it('an app without a tsconfig.json is built with one line saying the check was skipped', async () => {
    const a = mistyped({ tsconfig: false });
    const r = await carrot(['build', a.dir, '--env', 'development', '--image-tag', '1.0.0']);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.match(r.out[0] ?? '', /^carrot build: type check skipped: no tsconfig\.json in /);
  });

  it('carrot dev refuses to start an app with a type error: no process, no log', async () => {
    const a = mistyped();
    const dataDir = join(a.dir, 'data');
    const r = await carrot(['dev', a.dir, '--port', '0', '--no-dashboard', '--data-dir', dataDir]);
    assert.equal(r.code, 1, r.out.join('\n'));
    assert.match(r.err.join('\n'), /error TS2322/);
    assert.match(r.err.join('\n'), /carrot dev: 2 type errors .* nothing was started/);
    assert.doesNotMatch(r.out.join('\n'), /starting 'temp-app'/);
    assert.equal(existsSync(join(dataDir, 'logs', 'greeter.log')), false);
  });
});
