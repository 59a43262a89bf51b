import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { AppDef } from 'carotene/model';
import { GATEWAY_SETTINGS_ENV } from 'carotene/model';
import { sortedServices } from '../app-graph.ts';
import type { Environment } from '../environment.ts';
import { configMapName, GATEWAY, GATEWAY_PORT, PART_OF_LABEL, SERVICE_PORT } from './labels.ts';

/** One entry of the registry (the runtime's `ServiceAddress`): `protocol: 'grpc'` for an external service. */
type ServiceAddress = { url: string; protocol?: 'grpc' };

/**
 * Where each process finds the others in the cluster: the registry `carrot dev` writes
 * locally, with DNS names in place of loopback ports.
 */
export function clusterRegistry(app: AppDef, env: Environment): { app: string; gateway: { url: string }; services: Record<string, ServiceAddress> } {
  const services: Record<string, ServiceAddress> = {};
  for (const s of sortedServices(app)) {
    services[s.name] = { url: `https://${s.name}.${env.namespace}.svc:${SERVICE_PORT}`, ...(s.kind === 'external' ? { protocol: 'grpc' as const } : {}) };
  }
  return { app: app.name, gateway: { url: `http://${GATEWAY}.${env.namespace}.svc:${GATEWAY_PORT}` }, services };
}

/**
 * The shared configuration of every pod: the registry file and the variables that are the
 * same for all (log level, environment, event transport, the environment's gateway
 * settings). Never a secret.
 */
export function sharedConfigMap(app: AppDef, env: Environment): ConfigMap {
  const data: Record<string, string> = {
    CAROTENE_ENVIRONMENT: env.name,
    // read by the event host: 'direct' or the NATS URL, so pods need not resolve defaults again
    CAROTENE_EVENTS: env.events.transport === 'nats' ? env.events.url : 'direct',
    CAROTENE_LOG_LEVEL: env.logLevel,
    'registry.json': `${JSON.stringify(clusterRegistry(app, env), null, 2)}\n`,
  };
  // the environment's gateway settings (rate limits, CORS, deadlines), applied by the gateway over the app's
  if (Object.keys(env.gateway.settings).length > 0) data[GATEWAY_SETTINGS_ENV] = JSON.stringify(env.gateway.settings);
  return new ConfigMap({
    metadata: { name: configMapName(app.name), namespace: env.namespace, labels: { [PART_OF_LABEL]: app.name } },
    data: Object.fromEntries(Object.entries(data).sort(([a], [b]) => a.localeCompare(b))),
  });
}
