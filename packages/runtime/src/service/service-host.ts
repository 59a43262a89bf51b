import type { AppDef } from 'carotene/model';
import type { ServiceDef } from 'carotene/model';
import { implementedService } from 'carotene/model';
import type { StoreDriver } from '../store/driver.ts';
import { migrate, pendingMigrations } from '../store/migrations.ts';
import { checkSchema } from '../store/schema-check.ts';
import { openStore } from '../store/driver.ts';
import { migrateEventTables } from '../events/platform-tables.ts';
import type { GrpcContract } from '../transport/grpc-server.ts';
import { RpcServer } from '../transport/http-server.ts';
import type { Transport } from '../transport/transport.ts';
import type { CredentialSource } from '../security/credentials.ts';
import { callerCheck } from './caller-policy.ts';
import { EventHost, eventSettings, type EventSettings } from './event-host.ts';
import { grpcContracts, PROTO_DIR_ENV } from './grpc-contracts.ts';
import type { Logger } from './logger.ts';
import { serviceConfig } from './service-config.ts';
import { ServiceRuntime } from './service-runtime.ts';

export interface HostOptions {
  readonly app: AppDef;
  readonly service: string;
  readonly host: string;
  readonly port: number;
  /** PostgreSQL URL, or a SQLite file path. */
  readonly database: { url: string } | { file: string; synchronous?: 'normal' | 'full' | undefined };
  readonly transport: Transport;
  /** How events travel; default from `CAROTENE_EVENTS` and the app's environment (see `eventSettings`). */
  readonly events?: EventSettings;
  /** The service's certificate and key, and the CAs it trusts (mutual TLS on its listener). */
  readonly tls: CredentialSource;
  readonly log: Logger;
  /**
   * The contract's protobuf descriptors, served as gRPC on the same port; default: from the
   * contract, with the locks of `CAROTENE_PROTO_DIR` (see `grpcContracts`).
   */
  readonly grpc?: GrpcContract | undefined;
}

export interface ServiceHost {
  readonly url: string;
  readonly runtime: ServiceRuntime;
  close(): Promise<void>;
}

/** Opens the service's own database, migrates it, checks it matches the declared tables, runs onStart, and listens. */
export async function startServiceHost(options: HostOptions): Promise<ServiceHost> {
  const { app, log } = options;
  const def = implementedService(app, options.service);
  const config = serviceConfig(app, def);
  const store = await openStore(options.database);
  let server: RpcServer | undefined;
  let events: EventHost | undefined;
  try {
    const applied = await migrate(store.db, def.migrations, def.name);
    if (applied.length > 0) log.info({ migrations: applied }, 'migrations applied');
    await migrateEventTables(store.db, store.kind, def.name);
    // structure only, after every migration ran: hand-written data steps pass, drift does not
    await checkSchema(store.db, store.kind, def.name, def.stores);
    events = await EventHost.create({
      app,
      def,
      store,
      rpc: options.transport,
      settings: options.events ?? eventSettings(app),
      databaseUrl: 'url' in options.database ? options.database.url : undefined,
      log,
    });
    const runtime = new ServiceRuntime({
      def,
      store,
      transport: options.transport,
      config,
      log,
      events: events.outbox,
      authorizeCaller: callerCheck(app, def.name),
    });
    await def.onStart?.({ store: runtime.fullStore as never, config, log });
    server = new RpcServer({
      service: def.name,
      handler: runtime,
      ready: readiness(store, def),
      tls: options.tls,
      app: app.name,
      grpc: options.grpc ?? grpcContracts(app, { dir: process.env[PROTO_DIR_ENV], log })(def.name),
    });
    const url = await server.listen(options.host, options.port);
    await events.start(runtime);
    runtime.sagas?.resume();
    log.info({ url, engine: store.kind, events: events.transport.kind }, 'service listening');
    const eventHost = events;
    const rpc = server;
    return {
      url,
      runtime,
      async close() {
        await runtime.sagas?.close();
        await rpc.close();
        await eventHost.close();
        await options.transport.close();
        await store.close();
      },
    };
  } catch (err) {
    await events?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
}

/** Ready when the database answers and every declared migration is applied. */
function readiness(store: StoreDriver, def: ServiceDef) {
  return async () => {
    try {
      const pending = await pendingMigrations(store.db, def.migrations);
      return pending.length === 0
        ? { ok: true, checks: { database: 'ok', migrations: 'applied' } }
        : { ok: false, checks: { database: 'ok', migrations: `pending: ${pending.join(', ')}` } };
    } catch (err) {
      return { ok: false, checks: { database: (err as Error).message, migrations: 'unknown' } };
    }
  };
}

export type { ServiceDef };
