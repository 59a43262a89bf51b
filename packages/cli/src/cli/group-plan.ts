import { join } from 'node:path';
import type { AppDef } from 'carotene/model';
import { ENVIRONMENT_NAMES, type EnvironmentName, implementedServices } from 'carotene/model';
import { groupToEnv, type GroupMember } from '@carotene/runtime/service';
import { ENV } from '@carotene/runtime/service';
import { childCommand, GATEWAY, type DevPlan } from './dev-plan.ts';
import type { ProcessSpec } from './supervisor.ts';

/** Services that share one process; the others keep one process each. */
export interface ServiceGroup {
  readonly name: string;
  readonly services: readonly string[];
}

/** Name of the one group `--monolith` makes of every service. */
export const MONOLITH = 'monolith';

import { GROUP_MAIN } from './entries.ts';

export { GROUP_MAIN };

/** How the services of an app are laid out in processes, as flags or the app config ask. */
export interface ShapeRequest {
  /** `--monolith`, else the development environment's `monolith`. */
  readonly monolith?: boolean | undefined;
  /** `--group core=users,catalog`, repeatable. */
  readonly groupFlags?: readonly string[] | undefined;
  /** `--separate`: one process per service, whatever the app config says. */
  readonly separate?: boolean | undefined;
  /** Whose `monolith` / `groups` apply (`CAROTENE_ENVIRONMENT`; default `development`). */
  readonly environment?: string | undefined;
}

/**
 * The groups to run: flags first (`--separate`, `--monolith`, `--group`), then the app's
 * environment (`monolith: true` or `groups: { core: ['users', 'catalog'] }`; `development`
 * unless `CAROTENE_ENVIRONMENT` names another),
 * else none (one process per service). `--monolith` groups the Carotene services only: an
 * external service always keeps its own process. Checked against the app: every member exists, none
 * is in two groups, and a group's name does not clash with a process that runs beside it.
 */
export function resolveGroups(app: AppDef, request: ShapeRequest): ServiceGroup[] {
  const flags = request.groupFlags ?? [];
  const chosen = [request.separate, request.monolith, flags.length > 0].filter(Boolean).length;
  if (chosen > 1) throw new TypeError('choose one of --separate, --monolith and --group');
  if (request.separate) return [];
  if (request.monolith) return checkGroups(app, [{ name: MONOLITH, services: implementedServices(app).map((s) => s.name) }], 'with --monolith');
  if (flags.length > 0) return checkGroups(app, flags.map(parseGroupFlag), 'in --group');
  const environment = request.environment || 'development';
  const where = `in environments.${environment}`;
  const shape = environmentShape(app, environment);
  if (shape.monolith && shape.groups) throw new TypeError(`app '${app.name}': environments.${environment} sets both monolith and groups; keep one`);
  if (shape.monolith) return checkGroups(app, [{ name: MONOLITH, services: implementedServices(app).map((s) => s.name) }], where);
  if (shape.groups) {
    const groups = Object.entries(shape.groups).map(([name, services]) => ({ name, services }));
    return checkGroups(app, groups, `${where}.groups`);
  }
  return [];
}

/** `core=users,catalog` as a group. */
export function parseGroupFlag(text: string): ServiceGroup {
  const match = /^([^=]+)=(.+)$/.exec(text);
  if (!match) throw new TypeError(`--group takes <name>=<service>,<service>..., got '${text}'`);
  return {
    name: match[1]!.trim(),
    services: match[2]!
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  };
}

function checkGroups(app: AppDef, groups: readonly ServiceGroup[], where: string): ServiceGroup[] {
  const known = app.services.map((s) => s.name);
  const taken = new Map<string, string>();
  const names = new Set<string>();
  for (const g of groups) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(g.name)) throw new TypeError(`group name '${g.name}' ${where} must be letters, digits, - and _`);
    if (g.name === GATEWAY) throw new TypeError(`'${GATEWAY}' ${where} is reserved for the gateway's process`);
    if (names.has(g.name)) throw new TypeError(`group '${g.name}' is named twice ${where}`);
    names.add(g.name);
    if (g.services.length === 0) throw new TypeError(`group '${g.name}' ${where} has no services`);
    for (const s of g.services) {
      if (!known.includes(s))
        throw new TypeError(`group '${g.name}' ${where} names '${s}', which is not a service of app '${app.name}' (it has: ${known.join(', ')})`);
      if (app.services.some((x) => x.name === s && x.kind === 'external'))
        throw new TypeError(`group '${g.name}' ${where} names '${s}', an external service: it always runs its own command, in a process of its own`);
      const other = taken.get(s);
      if (other) throw new TypeError(`service '${s}' is in both group '${other}' and group '${g.name}' ${where}`);
      taken.set(s, g.name);
    }
  }
  for (const g of groups) {
    // a group may share a name with one of its own members, not with a service running beside it
    if (known.includes(g.name) && taken.get(g.name) !== g.name) {
      throw new TypeError(`group '${g.name}' ${where} has the name of service '${g.name}', which runs in another process; rename the group`);
    }
  }
  return groups.map((g) => ({ name: g.name, services: [...g.services] }));
}

function environmentShape(
  app: AppDef,
  environment: string,
): { monolith?: boolean | undefined; groups?: Readonly<Record<string, readonly string[]>> | undefined } {
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(environment)) {
    throw new TypeError(`environment '${environment}' is not one of ${ENVIRONMENT_NAMES.join(', ')}`);
  }
  const settings = app.environments?.[environment as EnvironmentName];
  return { monolith: settings?.monolith, groups: settings?.groups };
}

/**
 * Replaces the one-service processes of each group's members by one process that runs them
 * all (`runtime/group-main.ts`). Every service keeps its own port, registry entry, database
 * and certificate, so the registry is the same in every shape. The group is ready when its
 * last member is: members start one after the other.
 */
export function applyGroups(plan: DevPlan, groups: readonly ServiceGroup[]): DevPlan {
  if (groups.length === 0) return plan;
  const groupOf = new Map(groups.flatMap((g) => g.services.map((s) => [s, g] as const)));
  const specs: ProcessSpec[] = [];
  const placed = new Set<string>();
  for (const spec of plan.specs) {
    const group = groupOf.get(spec.name);
    if (!group) {
      specs.push(spec);
      continue;
    }
    if (placed.has(group.name)) continue;
    placed.add(group.name);
    specs.push(groupSpec(plan, group));
  }
  return { ...plan, specs };
}

function groupSpec(plan: DevPlan, group: ServiceGroup): ProcessSpec {
  const members = group.services.map((name) => {
    const spec = plan.specs.find((s) => s.name === name);
    if (!spec) throw new Error(`no process was planned for service '${name}'`);
    return spec;
  });
  const first = members[0]!;
  const last = members[members.length - 1]!;
  const env: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(first.env)) {
    // one member's own facts (port, database, certificate) are not the group's
    if (key === ENV.port || key.startsWith(ENV.databaseUrl) || key.startsWith('CAROTENE_TLS_')) continue;
    env[key] = value;
  }
  const groupMembers: GroupMember[] = members.map((spec) => ({
    service: spec.name,
    port: Number(spec.env[ENV.port]),
    databaseUrl: spec.env[ENV.databaseUrl] || undefined,
  }));
  const runtime = childCommand(GROUP_MAIN);
  return {
    ...first,
    name: group.name,
    command: runtime.command,
    args: runtime.args,
    env: { ...env, [ENV.service]: group.name, [ENV.port]: '0', ...groupToEnv(groupMembers) },
    readyUrl: last.readyUrl,
    logFile: join(plan.logsDir, `${group.name}.log`),
    url: `${first.url ?? new URL(first.readyUrl).origin} (${group.services.join(', ')})`,
  };
}
