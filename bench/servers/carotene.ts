// Carotene contender: the echo service behind its own RpcServer with mutual TLS, started the
// way `carrot dev` starts a service. BENCH_DATA_DIR holds the certificates the parent made.
// BENCH_TRACING picks the tracing mode: `none` (the default: no tracer at all), `off` (ids
// only, nothing recorded: a service without a collector), or an OTLP endpoint to export to.
import { join } from 'node:path';
import { setupResilience } from '../../packages/runtime/src/resilience/setup-resilience.ts';
import { createLogger } from '../../packages/runtime/src/service/logger.ts';
import { startServiceHost } from '../../packages/runtime/src/service/service-host.ts';
import { tlsFiles } from '../../packages/runtime/src/security/cert-paths.ts';
import { fixedCredentials, readCredentials } from '../../packages/runtime/src/security/credentials.ts';
import { startTracing } from '../../packages/runtime/src/telemetry/tracing.ts';
import { HttpTransport } from '../../packages/runtime/src/transport/http-transport.ts';
import { reportReady } from '../lib/child-server.ts';
import benchApp from '../scenarios/echo-app.ts';

const mode = process.env.BENCH_TRACING ?? 'none';
const tracing = mode === 'none' ? undefined : startTracing({ service: 'echo', endpoint: mode === 'off' ? undefined : mode });
const dataDir = process.env.BENCH_DATA_DIR!;
const tls = fixedCredentials(readCredentials(tlsFiles(dataDir, 'echo')));
const registry = { app: 'bench', gateway: { url: 'https://127.0.0.1:1' }, services: {} };
const log = createLogger('echo', 'info');
// as in every service process: call policies and the fault injector the server consults per call
setupResilience({ app: benchApp, environment: 'development', dataDir, log });
const host = await startServiceHost({
  app: benchApp,
  service: 'echo',
  host: '127.0.0.1',
  port: 0,
  // one database per process: the tracing scenario runs several servers on one data folder
  database: { file: join(dataDir, `echo-${process.pid}.sqlite`) },
  transport: new HttpTransport({ caller: 'echo', registry, tls }),
  tls,
  // one JSON line per call, as every service writes
  log,
});
process.on('SIGTERM', () => {
  void host
    .close()
    .then(() => tracing?.shutdown())
    .finally(() => process.exit(0));
});
reportReady({ url: host.url });
