// Entry of one service process, as `carrot dev` (or a container) starts it.
import { readFileSync } from 'node:fs';
import { HttpTransport } from '../transport/http-transport.ts';
import type { Registry } from '../transport/transport.ts';
import { loadApp } from './load-app.ts';
import { createLogger } from './logger.ts';
import { watchCredentials } from '../security/credentials.ts';
import { readProcessEnv, sqliteFile, tlsOf } from './process-env.ts';
import { startServiceHost } from './service-host.ts';

const env = readProcessEnv();
const log = createLogger(env.service, env.logLevel);

try {
  const app = await loadApp(env.appFile);
  const registry = JSON.parse(readFileSync(env.registryFile, 'utf8')) as Registry;
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
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    host.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (err) {
  const e = err as { code?: string; message?: string };
  log.fatal({ code: e.code, err }, `${env.service} failed to start: ${e.message ?? String(err)}`);
  process.exit(1);
}
