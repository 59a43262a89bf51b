import { platformError } from 'carotene/model';
import { ENV } from './process-env.ts';

/**
 * What a process that runs several services needs on top of {@link ProcessEnv}: which
 * services, each on its own port. `CAROTENE_SERVICE` names the process (the group, e.g.
 * `core`, or `monolith`); each member's database URL, when it has one, comes from
 * `CAROTENE_DATABASE_URL_<SERVICE>`.
 *
 * ```sh
 * CAROTENE_SERVICES=users:4001,catalog:4002
 * ```
 */
export const GROUP_ENV = {
  services: 'CAROTENE_SERVICES',
} as const;

export interface GroupMember {
  readonly service: string;
  readonly port: number;
  /** PostgreSQL URL of this service's own database; SQLite under the data folder when absent. */
  readonly databaseUrl: string | undefined;
}

/** The members of the group this process runs, or undefined when it runs one service. */
export function readGroupEnv(env: NodeJS.ProcessEnv = process.env): GroupMember[] | undefined {
  const text = env[GROUP_ENV.services];
  if (!text) return undefined;
  return text.split(',').map((item) => {
    const match = /^([A-Za-z0-9][A-Za-z0-9_-]*):(\d{1,5})$/.exec(item.trim());
    const port = Number(match?.[2]);
    if (!match || port > 65535) {
      throw platformError('INVALID_CONFIG', `${GROUP_ENV.services} must list <service>:<port> pairs separated by commas, got '${item}'`);
    }
    const service = match[1]!;
    return { service, port, databaseUrl: env[databaseUrlVariable(service)] || undefined };
  });
}

export function groupToEnv(members: readonly GroupMember[]): Record<string, string> {
  const out: Record<string, string> = { [GROUP_ENV.services]: members.map((m) => `${m.service}:${m.port}`).join(',') };
  for (const m of members) if (m.databaseUrl) out[databaseUrlVariable(m.service)] = m.databaseUrl;
  return out;
}

/** `CAROTENE_DATABASE_URL_ORDER_HISTORY` for service `order-history`. */
export function databaseUrlVariable(service: string): string {
  return `${ENV.databaseUrl}_${service.toUpperCase().replace(/-/g, '_')}`;
}
