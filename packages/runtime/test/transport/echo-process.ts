// The fixture's echo service in a process of its own, for tests that kill it: prints its URL.
// argv: <pki data dir> <database folder>
import { join } from 'node:path';
import { createLogger } from '../../src/service/logger.ts';
import { startServiceHost } from '../../src/service/service-host.ts';
import { HttpTransport } from '../../src/transport/http-transport.ts';
import { testPki } from '../fixtures/certs.ts';
import fixture from '../fixtures/two-services.ts';

const [pkiDir, dbDir] = process.argv.slice(2) as [string, string];
const pki = await testPki('fixture', ['echo'], pkiDir);
const tls = pki.credentials('echo');
const host = await startServiceHost({
  app: fixture,
  service: 'echo',
  host: '127.0.0.1',
  port: 0,
  database: { file: join(dbDir, 'echo-process.sqlite') },
  transport: new HttpTransport({ caller: 'echo', registry: { app: 'fixture', gateway: { url: '' }, services: {} }, tls }),
  tls,
  log: createLogger('echo', 'silent'),
});
process.stdout.write(`${host.url}\n`);
