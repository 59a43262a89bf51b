import { isAbsolute } from 'node:path';
import { z } from 'zod';
import type { Contract } from './contract.ts';
import { declaredAt } from './declared-at.ts';
import { replicasSchema, resourcesSchema, type Resources } from './environments.ts';
import type { EventDef } from './event.ts';
import { publicRoute, type PublicRoute, type RouteOptions } from './service.ts';

/** How `carrot dev` runs an external service: a command of its own, in its own process. */
export interface ExternalDev {
  /** The program, e.g. `/usr/bin/python3` (found on PATH when it has no slash). */
  readonly command: string;
  readonly args?: readonly string[];
  /** Working folder, relative to the app's folder (default: the app's folder). */
  readonly cwd?: string;
  /** More environment variables; `CAROTENE_*` names are set by `carrot dev` and may not be given. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * A pre-flight command `carrot dev` runs first (`command` with these arguments, in `cwd`):
   * when it fails, the service is not started and `hint` says what to install.
   */
  readonly check?: { readonly args: readonly string[]; readonly hint: string };
}

/** How `carrot build` deploys an external service. */
export interface ExternalDeploy {
  /** Its container image, with a tag (`registry.example/recs:1.4.0`); `latest` is refused in production. */
  readonly image: string;
  /** Default 1 (an environment's `services.<name>.replicas` wins). */
  readonly replicas?: number;
  /** Default: the environment's (an environment's `services.<name>.resources` wins). */
  readonly resources?: Resources;
}

/** A service implemented outside TypeScript, speaking gRPC generated from its contract. */
export interface ExternalDef<C extends Contract = Contract> {
  readonly kind: 'external';
  readonly name: C['name'];
  readonly contract: C;
  /** The contracts it calls (its `calls`): its egress, and the peers it is told about. */
  readonly integrations: readonly Contract[];
  readonly routes: readonly PublicRoute[];
  /** Events it publishes: it pushes each to every subscriber's `carotene.events.v1.Events/Deliver` (docs/grpc.md, "Events"). */
  readonly publishes: readonly EventDef[];
  /** Events it subscribes to: publishers' relays push them to its `Events/Deliver`, whatever the app's event transport. */
  readonly subscribes: readonly EventDef[];
  readonly dev: ExternalDev;
  readonly deploy: ExternalDeploy;
  /** Where `external` was called (`file:line`). */
  readonly source?: string | undefined;
}

/** What `external` accepts; `routes` is keyed by contract function. */
export interface ExternalOptions<C extends Contract> {
  /** Contracts of the services it calls. */
  readonly calls?: readonly Contract[];
  /** Public gateway routes of its functions, as a handler declares them (`route`, `auth`, `roles`, `status`). */
  readonly routes?: { readonly [K in keyof C['functions']]?: RouteOptions & { readonly route: NonNullable<RouteOptions['route']> } };
  readonly publishes?: readonly EventDef[];
  readonly subscribes?: readonly EventDef[];
  readonly dev: ExternalDev;
  readonly deploy: ExternalDeploy;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const IMAGE = /^[a-z0-9][a-z0-9._/:@-]*$/i;

const devSchema = z.strictObject({
  command: z.string().min(1, 'must name a program'),
  args: z.array(z.string()).optional(),
  cwd: z
    .string()
    .min(1)
    .refine((p) => !isAbsolute(p), 'must be relative to the app folder')
    .optional(),
  env: z
    .record(z.string(), z.string())
    .refine((env) => Object.keys(env).every((k) => ENV_NAME.test(k)), 'names must be environment variable names')
    .refine((env) => !Object.keys(env).some((k) => k.startsWith('CAROTENE_')), 'CAROTENE_* variables are set by carrot dev')
    .optional(),
  check: z.strictObject({ args: z.array(z.string()).min(1), hint: z.string().min(1) }).optional(),
});

const deploySchema = z.strictObject({
  image: z.string().regex(IMAGE, "must be a container image such as 'registry.example/recs:1.4.0'"),
  replicas: replicasSchema.optional(),
  resources: resourcesSchema.optional(),
});

/**
 * Declares a service implemented in another language (Python, Go…): `carrot dev` runs its
 * command as a process of its own, `carrot build` deploys its image, and callers list its
 * contract in their integrations like any other. It serves gRPC generated from the contract
 * and `grpc.health.v1.Health`, over mutual TLS with the certificate it is given (docs/grpc.md).
 *
 * ```ts
 * export default external('recommendations', Recommendations, {
 *   calls: [Catalog],
 *   routes: { suggest: { route: 'GET /api/suggestions/:userId' } },
 *   dev: { command: '/usr/bin/python3', args: ['server.py'], cwd: 'services/recommendations',
 *          check: { args: ['-c', 'import grpc'], hint: 'apt-get install python3-grpcio' } },
 *   deploy: { image: 'registry.example/recommendations:1.0.0' },
 * });
 * ```
 */
export function external<C extends Contract>(name: C['name'], contract: C, options: ExternalOptions<C>): ExternalDef<C> {
  const where = `external service '${String(name)}'`;
  if (contract?.kind !== 'contract') throw new TypeError(`${where}: the second argument must be a contract(...)`);
  if (name !== contract.name) throw new TypeError(`${where}: its contract is named '${contract.name}'; the names must match`);
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options with dev and deploy are required`);
  const unknown = Object.keys(options).filter((k) => !['calls', 'routes', 'publishes', 'subscribes', 'dev', 'deploy'].includes(k));
  if (unknown.length > 0) throw new TypeError(`${where}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);

  const integrations = options.calls ?? [];
  if (!Array.isArray(integrations)) throw new TypeError(`${where}: calls must be a list of contracts`);
  const called = new Set<string>();
  for (const c of integrations) {
    if (c?.kind !== 'contract') throw new TypeError(`${where}: calls must list contracts, got ${describe(c)}`);
    if (c.name === contract.name) throw new TypeError(`${where}: calls itself`);
    if (called.has(c.name)) throw new TypeError(`${where}: calls '${c.name}' twice`);
    called.add(c.name);
  }

  const routes: PublicRoute[] = [];
  for (const [fn, r] of Object.entries(options.routes ?? {})) {
    if (!(fn in contract.functions)) throw new TypeError(`${where}: routes names '${fn}', which is not a function of the contract`);
    if (r === undefined) continue;
    const spec = r as RouteOptions & { route: string };
    if (typeof spec.route !== 'string') throw new TypeError(`${where}, function '${fn}': a route needs route: 'GET /api/...'`);
    routes.push(publicRoute(spec, contract.name, fn, `${where}, function '${fn}'`));
  }

  const publishes = events(options.publishes, 'publishes', where);
  for (const e of publishes) {
    if (e.service !== contract.name) throw new TypeError(`${where}: publishes '${e.type}', which belongs to service '${e.service}'`);
  }
  const subscribes = events(options.subscribes, 'subscribes', where);
  for (const e of subscribes) {
    if (e.service === contract.name) throw new TypeError(`${where}: subscribes to its own event '${e.type}'`);
  }

  const dev = parse(devSchema, options.dev, 'dev', where);
  const deploy = parse(deploySchema, options.deploy, 'deploy', where);
  if (!deploy.image.split('/').at(-1)!.includes(':') && !deploy.image.includes('@')) {
    throw new TypeError(`${where}: deploy.image '${deploy.image}' needs a tag (e.g. '${deploy.image}:1.0.0')`);
  }
  return {
    kind: 'external',
    name: contract.name,
    contract,
    integrations,
    routes,
    publishes,
    subscribes,
    dev,
    deploy,
    source: declaredAt(new Error().stack),
  };
}

function events(list: readonly EventDef[] | undefined, key: string, where: string): readonly EventDef[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new TypeError(`${where}: ${key} must be a list of events`);
  const seen = new Set<string>();
  for (const e of list) {
    if (e?.kind !== 'event') throw new TypeError(`${where}: ${key} must list events declared with event(...), got ${describe(e)}`);
    if (seen.has(e.type)) throw new TypeError(`${where}: ${key} lists '${e.type}' twice`);
    seen.add(e.type);
  }
  return list;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, key: string, where: string): T {
  if (value === undefined) throw new TypeError(`${where}: ${key} is required`);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = [key, ...issue.path.map(String)].join('.');
    return issue.code === 'unrecognized_keys' ? issue.keys.map((k) => `${path}.${k}: unknown key`).join('; ') : `${path}: ${issue.message}`;
  });
  throw new TypeError(`${where}: ${problems.join('; ')}`);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  const kind = (value as { kind?: unknown }).kind;
  return typeof kind === 'string' ? `a ${kind}` : `a ${typeof value}`;
}
