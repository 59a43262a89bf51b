import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

/** Debian's protoc 3.21 (with proto3 `optional`); the Python gRPC plugin beside it. */
export const PROTOC = '/usr/bin/protoc';
export const GRPC_PYTHON_PLUGIN = '/usr/bin/grpc_python_plugin';
export const PYTHON = '/usr/bin/python3';

/**
 * True when protoc is there. Without it: under CI=true (which promises it) a failure,
 * elsewhere a visible skip that says why.
 */
export function haveProtoc(t: TestContext): boolean {
  if (existsSync(PROTOC)) return true;
  const why = `${PROTOC} is missing (apt-get install protobuf-compiler)`;
  if (process.env.CI === 'true') assert.fail(`CI=true but ${why}`);
  t.skip(why);
  return false;
}

/** Runs protoc; fails the test with its stderr when it refuses. */
export function protoc(args: readonly string[], cwd: string): void {
  const r = spawnSync(PROTOC, args, { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `protoc ${args.join(' ')} failed:\n${r.stderr}${r.error ?? ''}`);
}
