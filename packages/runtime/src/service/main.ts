// Entry of one service process, as `carrot dev` (or a container) starts it.
import { HttpTransport, logInstanceChanges } from '../transport/http-transport.ts';
import { loadApp, readRegistry } from './load-app.ts';
import { stopOnSignals } from './stop-on-signals.ts';
import { setupResilience } from '../resilience/setup-resilience.ts';
import { ENVIRONMENT_ENV } from './event-host.ts';
import { grpcContracts, PROTO_DIR_ENV } from './grpc-contracts.ts';
import { createLogger } from './logger.ts';
import { startTelemetry } from '../telemetry/start-telemetry.ts';
import { watchCredentials } from '../security/credentials.ts';
import { readProcessEnv, sqliteFile, tlsOf } from './process-env.ts';
import { startServiceHost } from './service-host.ts';

const env = readProcessEnv();
const log = createLogger(env.service, env.logLevel);

try {
  const app = await loadApp(env.appFile);
  const registry = await readRegistry(env.registryFile);
  // spans, trace ids in logs, /metrics (docs/observability.md); flushed after the host closes
  const telemetry = startTelemetry(env.service, app);
  // timeouts, retries, breakers and bulkheads of ctx.call, and injected faults (docs/resilience.md)
  setupResilience({ app, environment: process.env[ENVIRONMENT_ENV] || 'development', dataDir: env.dataDir, log });
  // `carrot certs rotate` replaces the files; SIGHUP forces a reload as well
  const tls = watchCredentials(tlsOf(env), { onError: (err) => log.warn({ err }, 'new TLS credentials could not be loaded; the current ones stay in force') });
  tls.onChange(() => log.info({}, 'TLS credentials reloaded'));
  process.on('SIGHUP', () => tls.reload());
  // the protobuf form of the contracts: served as gRPC, and for callees that speak only gRPC
  const protos = grpcContracts(app, { dir: process.env[PROTO_DIR_ENV], log });
  const host = await startServiceHost({
    app,
    service: env.service,
    host: env.host,
    port: env.port,
    database: env.databaseUrl ? { url: env.databaseUrl } : { file: sqliteFile(env.dataDir, env.service), synchronous: env.sqliteSynchronous },
    transport: new HttpTransport({ caller: env.service, registry, tls, onInstanceChange: logInstanceChanges(log), grpcContract: protos }),
    tls,
    log,
    grpc: protos(env.service),
  });
  stopOnSignals(log, () => host.close().finally(() => telemetry.shutdown()));
} catch (err) {
  const e = err as { code?: string; message?: string };
  log.fatal({ code: e.code, err }, `${env.service} failed to start: ${e.message ?? String(err)}`);
  process.exit(1);
}
