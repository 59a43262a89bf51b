import { join } from 'node:path';
import { platformError } from 'carotene/model';
import { tlsFiles } from '../security/cert-paths.ts';
import type { TlsFiles } from '../security/credentials.ts';

/**
 * How `carrot dev` tells a child process what to be. One variable per fact, so a process
 * can also be started by hand or by a container runtime with the same names.
 */
export interface ProcessEnv {
  /** Absolute path of the app module (its default export is `app({...})`). */
  readonly appFile: string;
  /** Service to run, or `gateway`. */
  readonly service: string;
  readonly host: string;
  readonly port: number;
  /** The app's data folder: `db/<service>.sqlite`, `logs/`, `registry.json`. */
  readonly dataDir: string;
  /** Path of the registry JSON (see `Registry`). */
  readonly registryFile: string;
  /** PostgreSQL URL of this service's own database; SQLite under dataDir when absent. */
  readonly databaseUrl: string | undefined;
  readonly logLevel: string;
  /** When a SQLite commit reaches the disk: `normal` (default) or `full` (docs/stores.md). */
  readonly sqliteSynchronous?: 'normal' | 'full';
  /**
   * This process's certificate and key and the CA bundle it trusts, for mutual TLS
   * (default: `<dataDir>/certs/ca-bundle.pem`, `<service>.crt`, `<service>.key`).
   */
  readonly tls?: TlsFiles;
  /**
   * Gateway only: wait up to this long for every service in the registry to answer ready
   * before listening (`carrot dev` starts the gateway together with the services).
   */
  readonly awaitServicesMs?: number;
}

export const ENV = {
  appFile: 'CAROTENE_APP_FILE',
  service: 'CAROTENE_SERVICE',
  host: 'CAROTENE_HOST',
  port: 'CAROTENE_PORT',
  dataDir: 'CAROTENE_DATA_DIR',
  registryFile: 'CAROTENE_REGISTRY',
  databaseUrl: 'CAROTENE_DATABASE_URL',
  logLevel: 'CAROTENE_LOG_LEVEL',
  tlsCa: 'CAROTENE_TLS_CA',
  tlsCert: 'CAROTENE_TLS_CERT',
  tlsKey: 'CAROTENE_TLS_KEY',
  awaitServicesMs: 'CAROTENE_AWAIT_SERVICES_MS',
  sqliteSynchronous: 'CAROTENE_SQLITE_SYNCHRONOUS',
} as const;

export function readProcessEnv(env: NodeJS.ProcessEnv = process.env): ProcessEnv {
  const need = (key: string): string => {
    const value = env[key];
    if (!value) throw platformError('INVALID_CONFIG', `environment variable ${key} is required (normally set by 'carrot dev')`);
    return value;
  };
  const port = Number(need(ENV.port));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw platformError('INVALID_CONFIG', `${ENV.port} must be a port number, got '${env[ENV.port]}'`);
  }
  const dataDir = need(ENV.dataDir);
  const awaitText = env[ENV.awaitServicesMs];
  const awaitServicesMs = awaitText ? Number(awaitText) : undefined;
  if (awaitServicesMs !== undefined && !(Number.isInteger(awaitServicesMs) && awaitServicesMs >= 0)) {
    throw platformError('INVALID_CONFIG', `${ENV.awaitServicesMs} must be a number of milliseconds, got '${awaitText}'`);
  }
  const synchronous = env[ENV.sqliteSynchronous] || undefined;
  if (synchronous !== undefined && synchronous !== 'normal' && synchronous !== 'full') {
    throw platformError('INVALID_CONFIG', `${ENV.sqliteSynchronous} must be 'normal' or 'full', got '${synchronous}'`);
  }
  return {
    appFile: need(ENV.appFile),
    service: need(ENV.service),
    host: env[ENV.host] || '127.0.0.1',
    port,
    dataDir,
    registryFile: env[ENV.registryFile] || join(dataDir, 'registry.json'),
    databaseUrl: env[ENV.databaseUrl] || undefined,
    logLevel: env[ENV.logLevel] || 'info',
    tls: tlsFromEnv(env, dataDir, need(ENV.service)),
    ...(awaitServicesMs === undefined ? {} : { awaitServicesMs }),
    ...(synchronous === undefined ? {} : { sqliteSynchronous: synchronous }),
  };
}

function tlsFromEnv(env: NodeJS.ProcessEnv, dataDir: string, service: string): TlsFiles {
  const fallback = tlsFiles(dataDir, service);
  return { ca: env[ENV.tlsCa] || fallback.ca, cert: env[ENV.tlsCert] || fallback.cert, key: env[ENV.tlsKey] || fallback.key };
}

/** The TLS files of a process: as given, or the defaults under its data folder. */
export function tlsOf(p: ProcessEnv): TlsFiles {
  return p.tls ?? tlsFiles(p.dataDir, p.service);
}

export function toEnv(p: ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {
    [ENV.appFile]: p.appFile,
    [ENV.service]: p.service,
    [ENV.host]: p.host,
    [ENV.port]: String(p.port),
    [ENV.dataDir]: p.dataDir,
    [ENV.registryFile]: p.registryFile,
    [ENV.logLevel]: p.logLevel,
  };
  if (p.databaseUrl) out[ENV.databaseUrl] = p.databaseUrl;
  if (p.awaitServicesMs !== undefined) out[ENV.awaitServicesMs] = String(p.awaitServicesMs);
  if (p.sqliteSynchronous !== undefined) out[ENV.sqliteSynchronous] = p.sqliteSynchronous;
  if (p.tls) {
    out[ENV.tlsCa] = p.tls.ca;
    out[ENV.tlsCert] = p.tls.cert;
    out[ENV.tlsKey] = p.tls.key;
  }
  return out;
}

/** SQLite file of a service under the app's data folder. */
export function sqliteFile(dataDir: string, service: string): string {
  return join(dataDir, 'db', `${service}.sqlite`);
}
