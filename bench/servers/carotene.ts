// Carotene contender: the echo service behind its own RpcServer with mutual TLS, started the
// way `carrot dev` starts a service. BENCH_DATA_DIR holds the certificates the parent made.
import { join } from 'node:path';
import { createLogger } from '../../packages/carotene/src/runtime/logger.ts';
import { startServiceHost } from '../../packages/carotene/src/runtime/service-host.ts';
import { tlsFiles } from '../../packages/carotene/src/security/cert-paths.ts';
import { fixedCredentials, readCredentials } from '../../packages/carotene/src/security/credentials.ts';
import { HttpTransport } from '../../packages/carotene/src/transport/http-transport.ts';
import { reportReady } from '../lib/child-server.ts';
import benchApp from '../scenarios/echo-app.ts';

const dataDir = process.env.BENCH_DATA_DIR!;
const tls = fixedCredentials(readCredentials(tlsFiles(dataDir, 'echo')));
const registry = { app: 'bench', gateway: { url: 'https://127.0.0.1:1' }, services: {} };
const host = await startServiceHost({
  app: benchApp,
  service: 'echo',
  host: '127.0.0.1',
  port: 0,
  database: { file: join(dataDir, 'echo.sqlite') },
  transport: new HttpTransport({ caller: 'echo', registry, tls }),
  tls,
  // one JSON line per call, as every service writes
  log: createLogger('echo', 'info'),
});
process.on('SIGTERM', () => {
  void host.close().finally(() => process.exit(0));
});
reportReady({ url: host.url });
