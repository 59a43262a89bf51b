import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppDef } from 'carotene/model';
import { readProtoLock } from '@carotene/runtime/grpc';
import { protoFiles } from '../build/contract-protos.ts';

/** What `refreshProtoDir` found: the files that were (or, with `check`, would be) written. */
export interface ProtoDirState {
  readonly files: readonly string[];
  readonly outdated: readonly string[];
}

/**
 * Brings `<appDir>/proto` up to date with the app's contracts: new fields get numbers in the
 * locks, removed ones are reserved. With `check`, writes nothing and only says what is out
 * of date. Throws ProtoMappingError (INVALID_CONFIG) for a construct that cannot map.
 */
export async function refreshProtoDir(app: AppDef, dir: string, options: { check?: boolean } = {}): Promise<ProtoDirState> {
  const files = protoFiles(app, (name) => readProtoLock(dir, name), false);
  const outdated = [...files].filter(([name, text]) => {
    const file = join(dir, name);
    return !existsSync(file) || readFileSync(file, 'utf8') !== text;
  });
  if (!options.check && outdated.length > 0) {
    for (const [name, text] of outdated) {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), text);
    }
  }
  return { files: [...files.keys()], outdated: outdated.map(([name]) => name) };
}

/**
 * `carrot contracts proto <appDir>` in a fresh process, for `carrot dev --watch`: this
 * process holds the app as first loaded, the child loads the edited contracts.
 */
export function refreshProtoDirInChild(appDir: string): Promise<{ ok: true } | { ok: false; output: string }> {
  const bin = fileURLToPath(new URL('../../bin/carrot.js', import.meta.url));
  return new Promise((resolve) => {
    execFile(process.execPath, [...process.execArgv, bin, 'contracts', 'proto', appDir], { encoding: 'utf8' }, (err, _out, stderr) => {
      resolve(err ? { ok: false, output: stderr.trim() || err.message } : { ok: true });
    });
  });
}
