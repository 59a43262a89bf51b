import { randomBytes } from 'node:crypto';
import { openStore } from '../../runtime/src/store/driver.ts';
import { connectAdmin, missingServer, scratchDatabases } from '../../runtime/test/support/postgres.ts';
import { sagaSuite } from '../../runtime/test/sagas/saga-suite.ts';

const connected = await connectAdmin();

if ('unreachable' in connected) {
  missingServer('sagas on postgres', `PostgreSQL not reachable: ${connected.unreachable}`);
} else {
  const database = scratchDatabases(connected.admin);
  sagaSuite('sagas on PostgreSQL', () => {
    const run = randomBytes(5).toString('hex');
    return async (service) => openStore({ url: await database(`carotene_saga_${run}_${service}`) });
  });
}
