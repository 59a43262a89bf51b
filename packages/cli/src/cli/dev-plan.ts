import { dirname, join, resolve } from 'node:path';
import type { AppDef, ExternalDef } from 'carotene/model';
import { ENV, sqliteFile, toEnv } from '@carotene/runtime/service';
import type { Registry, ServiceAddress } from '@carotene/runtime/transport';
import { tlsFiles } from '@carotene/runtime/security';
import { GATEWAY_IDENTITY, SUPERVISOR_IDENTITY } from '@carotene/runtime/security';
import { declaredCallers, externalEventEnv, externalPeers } from '../build/app-graph.ts';
import type { ProcessSpec } from './supervisor.ts';
import { GATEWAY_MAIN, MIGRATE_MAIN, RUNTIME_MAIN } from './entries.ts';

/** The standard OpenTelemetry variable naming the OTLP/HTTP collector (`<url>/v1/traces`). */
export const OTLP_ENDPOINT = 'OTEL_EXPORTER_OTLP_ENDPOINT';

/** Name of the child process that runs the gateway (reserved: no service may take it). */
export const GATEWAY = 'gateway';

/** Everything `carrot dev` decided before spawning anything. */
export interface DevPlan {
  readonly registry: Registry;
  readonly registryFile: string;
  readonly logsDir: string;
  readonly dbDir: string;
  /** Services first, in the app's order, then the gateway. */
  readonly specs: readonly ProcessSpec[];
  /** Where each service keeps its data, for humans: a SQLite path or the variable that named a database URL. */
  readonly databases: ReadonlyArray<{ readonly service: string; readonly where: string }>;
  /** The external services, each run by its own command (see {@link externalEnv}). */
  readonly externals: readonly PlannedExternal[];
}

/** An external service as `carrot dev` runs it: its command, and the pre-flight check before it. */
export interface PlannedExternal {
  readonly service: string;
  readonly command: string;
  /** Absolute: the app folder joined with `dev.cwd`. */
  readonly cwd: string;
  readonly check?: { readonly args: readonly string[]; readonly hint: string };
  /** Its process specs (one per instance), in the plan's `specs`. */
  readonly processes: readonly string[];
}

/**
 * The variables an external service is started with, besides the parent's environment and
 * its `dev.env` (docs/grpc.md, "Writing a service in another language"). Names shared with
 * Carotene's own processes are the same (`CAROTENE_SERVICE`, `CAROTENE_PORT`, `CAROTENE_TLS_*`…).
 */
export const EXTERNAL_ENV = {
  app: 'CAROTENE_APP',
  /** Comma-separated identities it may admit: its declared callers, and `gateway` when it has routes. */
  allowedCallers: 'CAROTENE_ALLOWED_CALLERS',
  protoDir: 'CAROTENE_PROTO_DIR',
  /** `CAROTENE_PEER_<NAME>_URL`, see {@link peerEnvName}. */
  peerPrefix: 'CAROTENE_PEER_',
} as const;

/** `CAROTENE_PEER_ORDER_HISTORY_URL` for integration `order-history`. */
export function peerEnvName(service: string, what: 'URL' | 'PROTOCOL' = 'URL'): string {
  return `${EXTERNAL_ENV.peerPrefix}${service.toUpperCase().replace(/-/g, '_')}_${what}`;
}

export interface DevPlanInput {
  readonly app: AppDef;
  readonly appFile: string;
  readonly dataDir: string;
  readonly gateway: { readonly host: string; readonly port: number };
  /** One port per service instance, in the app's order (a scaled service takes several in a row). */
  readonly servicePorts: readonly number[];
  /** Instances per service (`--scale catalog=2`); one when absent. */
  readonly scale?: ReadonlyMap<string, number>;
  /** The environment children inherit (normally `process.env`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where every process exports its traces (the dashboard): `OTEL_EXPORTER_OTLP_ENDPOINT`, unless `env` sets one. */
  readonly otlpEndpoint?: string;
}

/** How a child is started: this Node, with tsx loaded, running a Carotene entry module. */
export interface ChildCommand {
  readonly command: string;
  readonly args: readonly string[];
}

/**
 * Node with tsx loaded, running `entry`. The loader is resolved from the carotene package,
 * so the children work whatever the app's own dependencies are.
 */
export function childCommand(entry: string): ChildCommand {
  return { command: process.execPath, args: ['--import', import.meta.resolve('tsx'), entry] };
}

export { GATEWAY_MAIN, MIGRATE_MAIN, RUNTIME_MAIN };

/** `CAROTENE_DATABASE_URL_ORDER_HISTORY` for service `order-history`. */
export function databaseEnvName(service: string): string {
  return `${ENV.databaseUrl}_${service.toUpperCase().replace(/-/g, '_')}`;
}

/** Every identity `carrot dev` needs a certificate for: each service, the gateway, and itself. */
export function identitiesOf(app: AppDef): string[] {
  return [...app.services.map((s) => s.name), GATEWAY_IDENTITY, SUPERVISOR_IDENTITY];
}

/**
 * Builds the registry and one process spec per service plus the gateway. Pure: the ports
 * were chosen already and nothing is written.
 */
export function planDev(input: DevPlanInput): DevPlan {
  const { app, appFile, dataDir } = input;
  const registryFile = join(dataDir, 'registry.json');
  const logsDir = join(dataDir, 'logs');
  const dbDir = join(dataDir, 'db');
  const logLevel = input.env[ENV.logLevel] || 'info';

  // database URLs are per service; one set in the parent's environment must not leak to all
  const base: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(input.env)) if (!key.startsWith(ENV.databaseUrl)) base[key] = value;
  // an endpoint the user set explicitly (a collector of their own) wins over the dashboard
  if (input.otlpEndpoint && !input.env[OTLP_ENDPOINT]) base[OTLP_ENDPOINT] = input.otlpEndpoint;

  const gatewayHost = reachableHost(input.gateway.host);
  const gatewayUrl = `http://${gatewayHost}:${input.gateway.port}`;
  const services: Record<string, ServiceAddress> = {};
  const specs: ProcessSpec[] = [];
  const databases: Array<{ service: string; where: string }> = [];
  const runtime = childCommand(RUNTIME_MAIN);

  const externals: PlannedExternal[] = [];
  const appDir = dirname(appFile);
  let nextPort = 0;
  // every address first: an external service is told where each of its peers listens
  const ports = new Map<string, number[]>();
  for (const service of app.services) {
    const count = input.scale?.get(service.name) ?? 1;
    const list: number[] = [];
    for (let n = 1; n <= count; n += 1) {
      const port = input.servicePorts[nextPort++];
      if (port === undefined) throw new Error(`no port was reserved for service '${service.name}'`);
      list.push(port);
    }
    ports.set(service.name, list);
    // services speak only mutual TLS, and in dev only on loopback
    const urls = list.map((port) => `https://127.0.0.1:${port}`);
    services[service.name] = { url: urls[0]!, instances: urls.map((url) => ({ url })), ...(service.kind === 'external' ? { protocol: 'grpc' as const } : {}) };
  }

  for (const service of app.services) {
    if (service.kind === 'external') {
      const planned = externalSpecs(service, {
        appDir,
        dataDir,
        registryFile,
        logsDir,
        logLevel,
        base,
        appName: app.name,
        callers: declaredCallers(app, service),
        peers: externalPeers(app, service),
        events: externalEventEnv(app, service),
        ports: ports.get(service.name)!,
        services,
      });
      externals.push(planned.external);
      specs.push(...planned.specs);
      continue;
    }
    const count = ports.get(service.name)!.length;
    const dbVar = databaseEnvName(service.name);
    const databaseUrl = input.env[dbVar] || undefined;
    databases.push({ service: service.name, where: databaseUrl ? `PostgreSQL from ${dbVar}` : sqliteFile(dataDir, service.name) });
    for (let n = 1; n <= count; n += 1) {
      const port = ports.get(service.name)![n - 1]!;
      const url = `https://127.0.0.1:${port}`;
      const name = instanceName(service.name, n);
      specs.push({
        name,
        ...runtime,
        env: {
          ...base,
          ...toEnv({
            appFile,
            service: service.name,
            host: '127.0.0.1',
            port,
            dataDir,
            registryFile,
            databaseUrl,
            logLevel,
            tls: tlsFiles(dataDir, service.name),
          }),
        },
        readyUrl: `${url}/ready`,
        readyTls: tlsFiles(dataDir, SUPERVISOR_IDENTITY),
        logFile: join(logsDir, `${name}.log`),
        url,
        // more instances start once the first has migrated the shared database
        ...(n > 1 ? { stage: EXTRA_INSTANCES_STAGE } : {}),
      });
    }
  }

  specs.push({
    name: GATEWAY,
    ...childCommand(GATEWAY_MAIN),
    env: {
      ...base,
      ...toEnv({
        appFile,
        service: GATEWAY,
        host: input.gateway.host,
        port: input.gateway.port,
        dataDir,
        registryFile,
        databaseUrl: undefined,
        logLevel,
        tls: tlsFiles(dataDir, GATEWAY_IDENTITY),
        awaitServicesMs: GATEWAY_AWAITS_SERVICES_MS,
      }),
    },
    readyUrl: `${gatewayUrl}/ready`,
    awaitsOthers: true,
    logFile: join(logsDir, `${GATEWAY}.log`),
    url: gatewayUrl,
  });

  return { registry: { app: app.name, gateway: { url: gatewayUrl }, services }, registryFile, logsDir, dbDir, specs, databases, externals };
}

/** The processes of one external service: its own command, with what it must know in its environment. */
function externalSpecs(
  def: ExternalDef,
  o: {
    appDir: string;
    dataDir: string;
    registryFile: string;
    logsDir: string;
    logLevel: string;
    base: Readonly<Record<string, string | undefined>>;
    appName: string;
    callers: readonly string[];
    /** The services it connects to: what it calls, and the subscribers of its events. */
    peers: readonly string[];
    /** `CAROTENE_EVENT_SUBSCRIBERS` and `CAROTENE_EVENT_PUBLISHERS`, when it has events. */
    events: Readonly<Record<string, string>>;
    ports: readonly number[];
    services: Readonly<Record<string, ServiceAddress>>;
  },
): { external: PlannedExternal; specs: ProcessSpec[] } {
  const cwd = resolve(o.appDir, def.dev.cwd ?? '.');
  const tls = tlsFiles(o.dataDir, def.name);
  const peers: Record<string, string> = {};
  for (const name of o.peers) {
    const address = o.services[name];
    if (!address) continue;
    peers[peerEnvName(name)] = address.url;
    peers[peerEnvName(name, 'PROTOCOL')] = address.protocol ?? 'carotene';
  }
  const specs = o.ports.map((port, i): ProcessSpec => {
    const name = instanceName(def.name, i + 1);
    const url = `https://127.0.0.1:${port}`;
    return {
      name,
      command: def.dev.command,
      args: [...(def.dev.args ?? [])],
      cwd,
      env: {
        ...o.base,
        ...def.dev.env,
        [ENV.service]: def.name,
        [ENV.host]: '127.0.0.1',
        [ENV.port]: String(port),
        [ENV.dataDir]: o.dataDir,
        [ENV.registryFile]: o.registryFile,
        [ENV.logLevel]: o.logLevel,
        [ENV.tlsCa]: tls.ca,
        [ENV.tlsCert]: tls.cert,
        [ENV.tlsKey]: tls.key,
        [EXTERNAL_ENV.app]: o.appName,
        [EXTERNAL_ENV.allowedCallers]: o.callers.join(','),
        [EXTERNAL_ENV.protoDir]: join(o.appDir, 'proto'),
        ...o.events,
        ...peers,
      },
      readyUrl: url,
      readyCheck: 'grpc-health',
      readyTls: tlsFiles(o.dataDir, SUPERVISOR_IDENTITY),
      logFile: join(o.logsDir, `${name}.log`),
      url,
    };
  });
  return {
    external: { service: def.name, command: def.dev.command, cwd, ...(def.dev.check ? { check: def.dev.check } : {}), processes: specs.map((s) => s.name) },
    specs,
  };
}

/**
 * The plan without the given external services (their pre-flight failed): no process, no
 * registry entry, so a call to one fails at once as UNAVAILABLE instead of waiting on a port.
 */
export function withoutExternals(plan: DevPlan, names: ReadonlySet<string>): DevPlan {
  if (names.size === 0) return plan;
  const dropped = new Set(plan.externals.filter((e) => names.has(e.service)).flatMap((e) => e.processes));
  const services = Object.fromEntries(Object.entries(plan.registry.services).filter(([name]) => !names.has(name)));
  return {
    ...plan,
    registry: { ...plan.registry, services },
    specs: plan.specs.filter((s) => !dropped.has(s.name)),
    externals: plan.externals.filter((e) => !names.has(e.service)),
  };
}

/**
 * The gateway starts together with the services (loading its code while they load theirs)
 * and listens once every instance in the registry answers ready, so its `/ready` still means
 * the whole app can take requests. After this long it listens anyway, with a warning.
 */
export const GATEWAY_AWAITS_SERVICES_MS = 30_000;

/** Start stage of a scaled service's second and later instances: after the first ones. */
export const EXTRA_INSTANCES_STAGE = 0.5;

/** The process name of a service's `n`th instance: `catalog`, then `catalog#2`, `catalog#3`… */
export function instanceName(service: string, n: number): string {
  return n === 1 ? service : `${service}#${n}`;
}

/** A host to connect to for one the gateway listens on: wildcard addresses mean loopback. */
export function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
