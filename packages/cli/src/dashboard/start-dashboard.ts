import type { AppDef } from 'carotene/model';
import { sqliteFile } from '@carotene/runtime/service';
import { tlsFiles } from '@carotene/runtime/security';
import { SUPERVISOR_IDENTITY } from '@carotene/runtime/security';
import { openStore, type StoreDriver } from '@carotene/runtime/store';
import { DashboardServer } from './dashboard-server.ts';
import { EventFeed } from './event-feed.ts';
import { HealthCollector } from './health-collector.ts';
import { SagaFeed } from './saga-feed.ts';

export interface StartDashboardOptions {
  readonly app: AppDef;
  readonly dataDir: string;
  readonly registryFile: string;
  readonly gatewayUrl: string;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** PostgreSQL URL of a service, when it does not use `<dataDir>/db/<service>.sqlite`. */
  readonly databaseUrlOf: (service: string) => string | undefined;
}

/** A running dashboard and the stores it opened. */
export interface RunningDashboard {
  readonly url: string;
  readonly server: DashboardServer;
  close(): Promise<void>;
}

/**
 * Starts the dashboard of a local app as `carrot dev` runs it: health through the registry
 * with the supervisor's certificate, events from each service's own database, the API
 * explorer in front of the gateway.
 *
 * ```ts
 * const dashboard = await startDashboard({ app, dataDir, registryFile, gatewayUrl, port: 9400, databaseUrlOf: () => undefined });
 * console.log(dashboard.url);
 * ```
 */
export async function startDashboard(options: StartDashboardOptions): Promise<RunningDashboard> {
  const stores = new Map<string, Promise<StoreDriver>>();
  const open = (service: string): Promise<StoreDriver> => {
    let store = stores.get(service);
    if (!store) {
      const url = options.databaseUrlOf(service);
      store = openStore(url ? { url } : { file: sqliteFile(options.dataDir, service) });
      // a failed open is tried again on the next look, not remembered
      store.catch(() => stores.delete(service));
      stores.set(service, store);
    }
    return store;
  };
  const health = new HealthCollector({
    services: options.app.services.map((s) => s.name),
    registryFile: options.registryFile,
    tls: tlsFiles(options.dataDir, SUPERVISOR_IDENTITY),
  });
  const server = new DashboardServer({
    app: options.app,
    ...(options.host ? { host: options.host } : {}),
    port: options.port,
    gatewayUrl: options.gatewayUrl,
    health,
    events: new EventFeed(options.app, open),
    sagas: SagaFeed.of(options.app, open),
  });
  const url = await server.start();
  return {
    url,
    server,
    async close() {
      await server.close();
      await Promise.all(
        [...stores.values()].map((s) =>
          s.then(
            (d) => d.close(),
            () => undefined,
          ),
        ),
      );
    },
  };
}
