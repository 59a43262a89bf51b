/** Names and labels every generated resource shares, so selectors and policies agree. */
export const NAME_LABEL = 'app.kubernetes.io/name';
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/** Port of every service's internal listener (mutual TLS), and of the gateway's public one. */
export const SERVICE_PORT = 8443;
export const GATEWAY_PORT = 8080;
/** The gateway's process name, as in `carrot dev`. */
export const GATEWAY = 'gateway';

/** Where the pods mount what they read: the shared config, the TLS files and their data. */
export const CONFIG_DIR = '/etc/carotene';
export const TLS_DIR = '/run/carotene/tls';
export const DATA_DIR = '/data';

export type Component = 'service' | 'gateway' | 'migration' | 'events';

export function labels(app: string, name: string, component: Component): Record<string, string> {
  return { [COMPONENT_LABEL]: component, [MANAGED_BY_LABEL]: 'carrot', [NAME_LABEL]: name, [PART_OF_LABEL]: app };
}

/** What a Service, a policy or a budget selects the pods of `name` by. */
export function selector(app: string, name: string): Record<string, string> {
  return { [NAME_LABEL]: name, [PART_OF_LABEL]: app };
}

export function configMapName(app: string): string {
  return `${app}-config`;
}

export function tlsSecretName(name: string): string {
  return `${name}-tls`;
}
