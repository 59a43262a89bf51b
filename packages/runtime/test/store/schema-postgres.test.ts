import { randomBytes } from 'node:crypto';
import { openStore } from '../../src/store/index.ts';
import { connectAdmin, missingServer, scratchDatabases } from '../support/postgres.ts';
import { schemaSuite } from './schema-suite.ts';

const server = await connectAdmin();

if ('unreachable' in server) {
  missingServer('generated migrations and the start check on postgres', `PostgreSQL not reachable: ${server.unreachable}`);
} else {
  const database = scratchDatabases(server.admin);
  const run = randomBytes(5).toString('hex');
  // a database of its own per test, as each service has in production
  schemaSuite('postgres', async (name) => {
    const url = await database(`carotene_schema_${run}_${name}`);
    return { database: { url }, open: () => openStore({ url }) };
  });
}
