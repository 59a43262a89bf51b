import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/driver.ts';
import { Cluster } from './cluster.ts';
import { eventsApp } from './fixture.ts';
import { eventsSuite } from './events-suite.ts';

eventsSuite('direct delivery, SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carotene-events-'));
  return new Cluster(eventsApp('events-test'), { transport: 'direct' }, async (service) => ({
    store: await openStore({ file: join(dir, `${service}.sqlite`) }),
  }));
});
