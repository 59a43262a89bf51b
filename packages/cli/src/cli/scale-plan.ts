import type { AppDef } from 'carotene/model';
import { ENVIRONMENT_NAMES, type EnvironmentName } from 'carotene/model';
import type { ServiceGroup } from './group-plan.ts';

/** Most instances of one service `carrot dev` starts. */
export const MAX_INSTANCES = 16;

/**
 * Instances per service for `carrot dev`: the `replicas` of each service in the app's
 * environment (`environments.development.services.catalog.replicas`), overridden by
 * `--scale catalog=2` flags. A service in a group runs once, with its group: asking for more
 * is refused.
 *
 * ```ts
 * resolveScale(app, { flags: ['catalog=2'], groups: [] })  // Map { 'catalog' => 2 }
 * ```
 */
export function resolveScale(
  app: AppDef,
  request: { flags: readonly string[]; groups: readonly ServiceGroup[]; environment?: string | undefined },
): Map<string, number> {
  const services = app.services.map((s) => s.name);
  const scale = new Map<string, number>();
  const grouped = (service: string) => request.groups.some((g) => g.services.includes(service));
  const environment = request.environment || 'development';
  if ((ENVIRONMENT_NAMES as readonly string[]).includes(environment)) {
    for (const [service, settings] of Object.entries(app.environments?.[environment as EnvironmentName]?.services ?? {})) {
      const replicas = settings.replicas;
      if (replicas === undefined || replicas === 1) continue;
      if (grouped(service))
        throw new TypeError(
          `environments.${environment}.services.${service}.replicas is ${replicas}, but '${service}' runs in a group; a grouped service runs once`,
        );
      scale.set(service, Math.min(replicas, MAX_INSTANCES));
    }
  }
  for (const flag of request.flags) {
    const match = /^([^=]+)=(\d+)$/.exec(flag);
    if (!match) throw new TypeError(`--scale takes <service>=<instances>, got '${flag}'`);
    const service = match[1]!;
    const count = Number(match[2]);
    if (!services.includes(service))
      throw new TypeError(`--scale names '${service}', which is not a service of app '${app.name}' (it has: ${services.join(', ')})`);
    if (count < 1 || count > MAX_INSTANCES) throw new TypeError(`--scale ${service} must be from 1 to ${MAX_INSTANCES} instances, got ${count}`);
    if (count > 1 && grouped(service)) throw new TypeError(`'${service}' runs in a group; only services in a process of their own can be scaled`);
    scale.set(service, count);
  }
  return scale;
}
