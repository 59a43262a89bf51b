// Carotene contender of the tracing benchmark: the echo service as `carrot dev` starts it,
// with telemetry set up as in every service process. BENCH_TRACING picks the mode: `none`
// (no tracer at all), `off` (the default: ids only, nothing recorded), or an OTLP endpoint.
import { join } from 'node:path';
import { createLogger } from '../../packages/carotene/src/runtime/logger.ts';
import { startServiceHost } from '../../packages/carotene/src/runtime/service-host.ts';
import { tlsFiles } from '../../packages/carotene/src/security/cert-paths.ts';
import { fixedCredentials, readCredentials } from '../../packages/carotene/src/security/credentials.ts';
import { startTracing } from '../../packages/carotene/src/telemetry/tracing.ts';
import { HttpTransport } from '../../packages/carotene/src/transport/http-transport.ts';
import { reportReady } from '../lib/child-server.ts';
import benchApp from '../scenarios/echo-app.ts';

const mode = process.env.BENCH_TRACING ?? 'off';
const tracing = mode === 'none' ? undefined : startTracing({ service: 'echo', endpoint: mode === 'off' ? undefined : mode });
const dataDir = process.env.BENCH_DATA_DIR!;
const tls = fixedCredentials(readCredentials(tlsFiles(dataDir, 'echo')));
const registry = { app: 'bench', gateway: { url: 'https://127.0.0.1:1' }, services: {} };
const host = await startServiceHost({
  app: benchApp,
  service: 'echo',
  host: '127.0.0.1',
  port: 0,
  database: { file: join(dataDir, `echo-${process.pid}.sqlite`) },
  transport: new HttpTransport({ caller: 'echo', registry, tls }),
  tls,
  log: createLogger('echo', 'info'),
});
process.on('SIGTERM', () => {
  void host
    .close()
    .then(() => tracing?.shutdown())
    .finally(() => process.exit(0));
});
reportReady({ url: host.url });
