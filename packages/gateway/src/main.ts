// Entry of the gateway process, as `carrot dev` (or a container) starts it.
import type { AppDef } from 'carotene/model';
import { grpcContracts, loadApp, PROTO_DIR_ENV, readRegistry } from '@carotene/runtime/service';
import { createLogger, type Logger } from '@carotene/runtime/service';
import { ENV, readProcessEnv, tlsOf, type ProcessEnv } from '@carotene/runtime/service';
import { watchCredentials, type CredentialSource } from '@carotene/runtime/security';
import { HttpTransport, logInstanceChanges } from '@carotene/runtime/transport';
import type { Registry } from '@carotene/runtime/transport';
import { startTelemetry } from '@carotene/runtime/telemetry';
import { withEnvironmentGateway } from './environment-gateway.ts';
import { createGateway, type Gateway } from './gateway.ts';
import { servicesReady } from './services-ready.ts';

/** Longest wait for in-flight requests after the request deadline itself, on shutdown. */
const DRAIN_SLACK_MS = 5_000;

let log: Logger = createLogger('gateway');

function fatal(message: string, err?: unknown): never {
  log.fatal({ err, code: (err as { code?: unknown } | undefined)?.code }, message);
  process.exit(1);
}

function listenFailure(err: unknown, host: string, port: number): string {
  switch ((err as { code?: unknown }).code) {
    case 'EADDRINUSE':
      return `gateway cannot listen: port ${port} on ${host} is already taken by another process; stop it or set ${ENV.port} to a free port`;
    case 'EACCES':
      return `gateway cannot listen: not allowed to use port ${port} on ${host}; choose a port above 1023`;
    case 'EADDRNOTAVAIL':
      return `gateway cannot listen: ${host} is not an address of this machine; check ${ENV.host}`;
    default:
      return `gateway cannot listen on ${host}:${port}: ${(err as Error).message}`;
  }
}

let env: ProcessEnv;
try {
  env = readProcessEnv();
} catch (err) {
  fatal(`gateway failed to start: ${(err as Error).message}`, err);
}
log = createLogger('gateway', env.logLevel);

let app: AppDef;
let registry: Registry;
try {
  // the environment's gateway settings over the app's (docs/deploy.md)
  app = withEnvironmentGateway(await loadApp(env.appFile), process.env);
  registry = await readRegistry(env.registryFile);
} catch (err) {
  fatal(`gateway failed to start: ${(err as Error).message}`, err);
}

// spans, trace ids in logs, /metrics (docs/observability.md); flushed on the way out
const telemetry = startTelemetry('gateway', app);

let tls: CredentialSource;
try {
  // the gateway calls services over mutual TLS with its own identity, `gateway`
  const watched = watchCredentials(tlsOf(env), {
    onError: (err) => log.warn({ err }, 'new TLS credentials could not be loaded; the current ones stay in force'),
  });
  watched.onChange(() => log.info({}, 'TLS credentials reloaded'));
  process.on('SIGHUP', () => watched.reload());
  tls = watched;
} catch (err) {
  fatal(`gateway failed to start: ${(err as Error).message}`, err);
}
// services that speak only gRPC (external ones) are called with their contract's protobuf form
const grpcContract = grpcContracts(app, { dir: process.env[PROTO_DIR_ENV], log });
const transport = new HttpTransport({ caller: 'gateway', registry, tls, onInstanceChange: logInstanceChanges(log), grpcContract });
let gateway: Gateway;
try {
  gateway = createGateway({ app, transport, logger: log });
} catch (err) {
  fatal(`gateway failed to start: ${(err as Error).message}`, err);
}

// `carrot dev` starts the gateway together with the services: it opens once they are ready
if (env.awaitServicesMs !== undefined) await servicesReady(registry, tls, { withinMs: env.awaitServicesMs, log });

let url: string;
try {
  url = await gateway.listen(env.host, env.port);
} catch (err) {
  await transport.close();
  fatal(listenFailure(err, env.host, env.port), err);
}
const routes = app.services.flatMap((s) => s.routes.map((r) => `${r.method} ${r.path}`));
log.info({ url, app: app.name, routes }, 'gateway listening');

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) {
    log.warn({ signal }, 'second signal: exiting without waiting for in-flight requests');
    process.exit(1);
  }
  stopping = true;
  log.info({ signal }, 'gateway stopping: finishing in-flight requests');
  const drainMs = (app.gateway.timeoutMs ?? 10_000) + DRAIN_SLACK_MS;
  const giveUp = setTimeout(() => fatal(`gateway did not stop within ${drainMs} ms; exiting anyway`), drainMs);
  giveUp.unref();
  gateway
    .close()
    .then(() => transport.close())
    .then(() => telemetry.shutdown())
    .then(
      () => {
        log.info({}, 'gateway stopped');
        process.exit(0);
      },
      (err: unknown) => fatal('gateway shutdown failed', err),
    );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
