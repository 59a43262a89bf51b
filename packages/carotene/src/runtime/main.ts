// Entry of one service process, as `carrot dev` (or a container) starts it.
import { HttpTransport } from '../transport/http-transport.ts';
import { loadApp, readRegistry } from './load-app.ts';
import { stopOnSignals } from './stop-on-signals.ts';
import { createLogger } from './logger.ts';
import { watchCredentials } from '../security/credentials.ts';
import { readProcessEnv, sqliteFile, tlsOf } from './process-env.ts';
import { startServiceHost } from './service-host.ts';

const env = readProcessEnv();
const log = createLogger(env.service, env.logLevel);

try {
  const app = await loadApp(env.appFile);
  const registry = await readRegistry(env.registryFile);
  // `carrot certs rotate` replaces the files; SIGHUP forces a reload as well
  const tls = watchCredentials(tlsOf(env), { onError: (err) => log.warn({ err }, 'new TLS credentials could not be loaded; the current ones stay in force') });
  tls.onChange(() => log.info({}, 'TLS credentials reloaded'));
  process.on('SIGHUP', () => tls.reload());
  const host = await startServiceHost({
    app,
    service: env.service,
    host: env.host,
    port: env.port,
    database: env.databaseUrl ? { url: env.databaseUrl } : { file: sqliteFile(env.dataDir, env.service) },
    transport: new HttpTransport({ caller: env.service, registry, tls }),
    tls,
    log,
  });
  stopOnSignals(log, () => host.close());
} catch (err) {
  const e = err as { code?: string; message?: string };
  log.fatal({ code: e.code, err }, `${env.service} failed to start: ${e.message ?? String(err)}`);
  process.exit(1);
}
