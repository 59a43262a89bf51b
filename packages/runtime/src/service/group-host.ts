import type { AppDef } from 'carotene/model';
import { implementedService, platformError } from 'carotene/model';
import { InProcessTransport, LocalServices } from '../transport/in-process-transport.ts';
import { RoutingTransport } from '../transport/routing-transport.ts';
import type { Transport } from '../transport/transport.ts';
import { startServiceHost, type HostOptions, type ServiceHost } from './service-host.ts';

export interface GroupHostOptions {
  readonly app: AppDef;
  /** The services this process runs, each with its own database and listener. */
  readonly services: readonly string[];
  /** Everything one service's host needs (port, database, credentials, log), given the transport it must call through. */
  readonly hostOptions: (service: string, transport: Transport) => HostOptions;
  /** The network transport a co-located service calls services of other processes with. */
  readonly remote: (service: string) => Transport;
}

export interface GroupHost {
  readonly hosts: ReadonlyMap<string, ServiceHost>;
  close(): Promise<void>;
}

/**
 * Runs several services in one process: each is started by {@link startServiceHost}, so it
 * opens its own database, applies its own migrations and listens on its own port (services
 * of other processes still reach it over the network). Calls between the co-located
 * services become in-process calls into the callee's `ServiceRuntime`: the same validation,
 * caller authorization, permissions, typed errors and deadlines, without the network hop.
 *
 * Services start one after the other in the given order, so the last one's `/ready`
 * answers only when the whole group is up.
 */
export async function startGroupHost(options: GroupHostOptions): Promise<GroupHost> {
  const { app, services } = options;
  checkGroup(app, services);
  const local = new LocalServices();
  const hosts = new Map<string, ServiceHost>();
  const group: GroupHost = {
    hosts,
    async close() {
      // callers before their callees, so a draining call still finds the service it calls open
      for (const name of closeOrder(app, [...hosts.keys()])) await hosts.get(name)!.close();
    },
  };
  try {
    for (const service of services) {
      const transport = new RoutingTransport({ colocated: services, local: new InProcessTransport(service, local), remote: options.remote(service) });
      const host = await startServiceHost(options.hostOptions(service, transport));
      hosts.set(service, host);
      local.register(service, host.runtime);
    }
  } catch (err) {
    await group.close().catch(() => undefined);
    throw err;
  }
  return group;
}

function checkGroup(app: AppDef, services: readonly string[]): void {
  if (services.length === 0) throw platformError('INVALID_CONFIG', 'a group needs at least one service');
  const known = new Set(app.services.map((s) => s.name));
  const seen = new Set<string>();
  for (const name of services) {
    if (!known.has(name)) throw platformError('INVALID_CONFIG', `app '${app.name}' has no service '${name}' (it has: ${[...known].join(', ')})`);
    if (seen.has(name)) throw platformError('INVALID_CONFIG', `service '${name}' is listed twice in one group`);
    // an external service is a process of its own, whatever the grouping
    implementedService(app, name);
    seen.add(name);
  }
}

/**
 * The running services ordered so that every service comes before the co-located services
 * it calls. Synchronous calls have no cycles (`carrot build` refuses them); should one
 * appear anyway, the rest close in the order given.
 */
export function closeOrder(app: AppDef, running: readonly string[]): string[] {
  const callees = new Map<string, ReadonlySet<string>>();
  for (const name of running) {
    const integrations = app.services.find((s) => s.name === name)?.integrations ?? [];
    callees.set(name, new Set(integrations.map((c) => c.name).filter((n) => running.includes(n))));
  }
  const order: string[] = [];
  const left = new Set(running);
  while (left.size > 0) {
    // a service no remaining service calls may close now
    const next = [...left].filter((name) => ![...left].some((other) => other !== name && callees.get(other)!.has(name)));
    const batch = next.length > 0 ? next : [...left];
    for (const name of batch) {
      order.push(name);
      left.delete(name);
    }
  }
  return order;
}
