// Entry of a process that runs several services (a group, or the whole app as a monolith),
// as `carrot dev --monolith` / `--group` (or a container) starts it. The members come from
// CAROTENE_SERVICES; everything else is the same environment as one service's process.
import { watchCredentials } from '../security/credentials.ts';
import { HttpTransport, logInstanceChanges } from '../transport/http-transport.ts';
import { GROUP_ENV, readGroupEnv } from './group-env.ts';
import { startGroupHost } from './group-host.ts';
import { loadApp, readRegistry } from './load-app.ts';
import { stopOnSignals } from './stop-on-signals.ts';
import { setupResilience } from '../resilience/setup-resilience.ts';
import { ENVIRONMENT_ENV } from './event-host.ts';
import { grpcContracts, PROTO_DIR_ENV } from './grpc-contracts.ts';
import { createLogger } from './logger.ts';
import { startTelemetry } from '../telemetry/start-telemetry.ts';
import { readProcessEnv, sqliteFile, tlsOf } from './process-env.ts';

const env = readProcessEnv();
const log = createLogger(env.service, env.logLevel);

try {
  const members = readGroupEnv();
  if (!members) throw new Error(`${GROUP_ENV.services} is not set: this entry runs a group of services`);
  const app = await loadApp(env.appFile);
  // the protobuf form of the contracts, for callees that speak only gRPC (each member serves its own)
  const protos = grpcContracts(app, { dir: process.env[PROTO_DIR_ENV], log });
  const registry = await readRegistry(env.registryFile);
  // one tracer for the process; each span names its service (docs/observability.md)
  const telemetry = startTelemetry(env.service, app);
  // timeouts, retries, breakers and bulkheads of ctx.call, and injected faults (docs/resilience.md)
  setupResilience({ app, environment: process.env[ENVIRONMENT_ENV] || 'development', dataDir: env.dataDir, log });
  // each member keeps its own identity: its own certificate on its listener and on its calls out
  const credentials = new Map(
    members.map((m) => {
      const tls = watchCredentials(tlsOf({ ...env, service: m.service, tls: undefined }), {
        onError: (err) => log.warn({ err, member: m.service }, 'new TLS credentials could not be loaded; the current ones stay in force'),
      });
      return [m.service, tls] as const;
    }),
  );
  process.on('SIGHUP', () => {
    for (const tls of credentials.values()) tls.reload();
  });
  const group = await startGroupHost({
    app,
    services: members.map((m) => m.service),
    remote: (service) =>
      new HttpTransport({ caller: service, registry, tls: credentials.get(service)!, onInstanceChange: logInstanceChanges(log), grpcContract: protos }),
    hostOptions: (service, transport) => {
      const m = members.find((x) => x.service === service)!;
      return {
        app,
        service,
        host: env.host,
        port: m.port,
        database: m.databaseUrl ? { url: m.databaseUrl } : { file: sqliteFile(env.dataDir, service), synchronous: env.sqliteSynchronous },
        transport,
        tls: credentials.get(service)!,
        log: createLogger(service, env.logLevel),
      };
    },
  });
  log.info({ services: members.map((m) => m.service) }, 'group running');
  stopOnSignals(log, () => group.close().finally(() => telemetry.shutdown()));
} catch (err) {
  const e = err as { code?: string; message?: string };
  log.fatal({ code: e.code, err }, `${env.service} failed to start: ${e.message ?? String(err)}`);
  process.exit(1);
}
