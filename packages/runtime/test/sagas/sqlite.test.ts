import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/driver.ts';
import { sagaSuite } from './saga-suite.ts';

sagaSuite('sagas on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carotene-sagas-'));
  return (service) => openStore({ file: join(dir, `${service}.sqlite`) });
});
