import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

// A code block in docs/ preceded by `<!-- sample: <file>#<region> -->` must be that region of
// the file, which tsc checks: the docs show code that compiles.
const root = resolve(import.meta.dirname, '../../../..');
const MARK = /<!-- sample: ([^#\s]+)#([\w-]+) -->\s*```ts\n([\s\S]*?)```/g;

function region(file: string, name: string): string {
  const text = readFileSync(join(root, file), 'utf8');
  const m = new RegExp(`// #region ${name}\\n([\\s\\S]*?)// #endregion ${name}\\n`).exec(text);
  assert.ok(m, `${file} has no region '${name}'`);
  return m[1]!;
}

test('every marked sample in docs/ is a region of a type-checked file, verbatim', () => {
  let checked = 0;
  for (const doc of readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'))) {
    for (const [, file, name, code] of readFileSync(join(root, 'docs', doc), 'utf8').matchAll(MARK)) {
      assert.equal(code, region(file!, name!), `docs/${doc}: the sample ${file}#${name} differs from the file`);
      checked++;
    }
  }
  assert.ok(checked >= 4, `only ${checked} marked samples found`);
});
