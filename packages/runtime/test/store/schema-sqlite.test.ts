import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { openStore } from '../../src/store/index.ts';
import { schemaSuite } from './schema-suite.ts';

const dir = mkdtempSync(join(tmpdir(), 'carotene-schema-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// a real file per test, as `carrot dev` gives each service
schemaSuite('sqlite', async (name) => {
  const file = join(dir, `${name}.sqlite`);
  return { database: { file }, open: () => openStore({ file }) };
});
