// Entry that applies one service's pending migrations and exits: what a Kubernetes
// migration Job or init container runs before the service's pods start.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { implementedService } from 'carotene/model';
import { openStore } from '../store/driver.ts';
import { migrate } from '../store/migrations.ts';
import { loadApp } from './load-app.ts';
import { createLogger } from './logger.ts';
import { ENV, sqliteFile } from './process-env.ts';

const service = process.env[ENV.service] ?? '';
const log = createLogger(service || 'migrate', process.env[ENV.logLevel] || 'info');

try {
  const appFile = process.env[ENV.appFile];
  const dataDir = process.env[ENV.dataDir];
  if (!appFile || !dataDir || !service) throw new Error(`${ENV.appFile}, ${ENV.dataDir} and ${ENV.service} are required`);
  const app = await loadApp(appFile);
  const def = implementedService(app, service);
  const url = process.env[ENV.databaseUrl];
  const file = sqliteFile(dataDir, service);
  if (!url) mkdirSync(dirname(file), { recursive: true });
  const store = await openStore(url ? { url } : { file });
  try {
    const applied = await migrate(store.db, def.migrations, def.name);
    log.info({ migrations: applied }, applied.length > 0 ? 'migrations applied' : 'no pending migrations');
  } finally {
    await store.close();
  }
  process.exit(0);
} catch (err) {
  log.fatal({ err }, `migrations of ${service} failed: ${(err as Error).message}`);
  process.exit(1);
}
