import type { AppDef } from 'carotene/model';
import type { ServiceDef } from 'carotene/model';
import { platformError } from 'carotene/model';
import { zodIssues } from './zod-issues.ts';

/** Validates a service's slice of the app config against the service's own schema. */
export function serviceConfig(app: AppDef | undefined, def: ServiceDef, override?: unknown): unknown {
  const raw = override !== undefined ? override : app?.config[def.name];
  if (!def.config) return raw;
  // No config at all is an empty object, so a schema whose fields all have defaults just works.
  const parsed = def.config.safeParse(raw === undefined ? {} : raw);
  if (!parsed.success) {
    const { text, issues } = zodIssues(parsed.error);
    throw platformError('INVALID_CONFIG', `config of service '${def.name}' is invalid: ${text}`, { details: issues });
  }
  return parsed.data;
}
