import type { AppDef, EnvironmentName, GatewaySettings } from 'carotene/model';
import { ENVIRONMENT_NAMES, GATEWAY_SETTINGS_ENV, gatewaySettingsSchema, parseGatewaySettings, platformError, withGatewaySettings } from 'carotene/model';

const ENVIRONMENT_ENV = 'CAROTENE_ENVIRONMENT';

/**
 * The app as the gateway of one environment serves it: the app's `gateway` with that
 * environment's settings (rate limits, CORS, deadlines, sizes) over it. They come from
 * `CAROTENE_GATEWAY`, the JSON `carrot build` writes into the environment's ConfigMap, so
 * what the ConfigMap says is what is in force; without it, from
 * `app.environments[CAROTENE_ENVIRONMENT].gateway` (default `development`, as under `carrot dev`).
 *
 * ```ts
 * const served = withEnvironmentGateway(await loadApp(file), process.env);
 * createGateway({ app: served, transport });
 * ```
 */
export function withEnvironmentGateway(app: AppDef, vars: Readonly<Record<string, string | undefined>>): AppDef {
  const settings = environmentSettings(app, vars);
  return Object.keys(settings).length === 0 ? app : { ...app, gateway: withGatewaySettings(app.gateway, settings) };
}

function environmentSettings(app: AppDef, vars: Readonly<Record<string, string | undefined>>): GatewaySettings {
  const json = vars[GATEWAY_SETTINGS_ENV];
  if (json) {
    try {
      return parseGatewaySettings(json);
    } catch (err) {
      throw platformError('INVALID_CONFIG', (err as Error).message, { service: 'gateway', cause: err });
    }
  }
  const name = vars[ENVIRONMENT_ENV] || 'development';
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(name)) {
    throw platformError('INVALID_CONFIG', `${ENVIRONMENT_ENV} must be one of ${ENVIRONMENT_NAMES.join(', ')}, got '${name}'`, { service: 'gateway' });
  }
  const given: Record<string, unknown> = { ...app.environments?.[name as EnvironmentName]?.gateway };
  // the deployment keys (domain, tls, replicas, ...) are the build's, not the process's
  const keys = new Set(Object.keys(gatewaySettingsSchema.shape));
  return Object.fromEntries(Object.entries(given).filter(([key]) => keys.has(key))) as GatewaySettings;
}
