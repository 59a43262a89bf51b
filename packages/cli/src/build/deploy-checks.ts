import type { AppDef } from 'carotene/model';
import { platformError, withGatewaySettings } from 'carotene/model';
import type { Environment } from './environment.ts';

/** Tags that name whatever was pushed last: a rollback or a new node would pull something else. */
const MUTABLE_TAGS = new Set(['latest']);

/**
 * Refuses, before anything is written, an environment whose manifests would deploy something
 * other than what the app says: an image without a fixed tag; in production an Ingress
 * without a host name or an ingress class, and rate limits kept in each of several gateway
 * replicas' memory (a client would get replicas × every limit) unless the environment says
 * `perReplica: true`. Each message names the setting that fixes it.
 *
 * ```ts
 * checkDeployable(app, resolveEnvironment(app, 'production', { imageTag: '1.4.0' }));
 * ```
 */
export function checkDeployable(app: AppDef, env: Environment): void {
  const where = `environments.${env.name}`;
  const tag = env.image.tag;
  if (tag === undefined) {
    throw invalid(`${where}.image.tag: no image tag; pass 'carrot build --image-tag <tag>', set ${where}.image.tag, or give the app's package.json a version`);
  }
  if (MUTABLE_TAGS.has(tag)) {
    throw invalid(
      `${where}.image.tag: '${tag}' names whatever was pushed last, so pods of one Deployment may run different code; use a release tag such as 1.4.0`,
    );
  }
  for (const s of app.services) {
    if (s.kind !== 'external') continue;
    const own = s.deploy.image.includes('@') ? undefined : s.deploy.image.split('/').at(-1)!.split(':')[1];
    if (own !== undefined && MUTABLE_TAGS.has(own)) {
      throw invalid(
        `external service '${s.name}': deploy.image '${s.deploy.image}' names whatever was pushed last; use a release tag such as 1.4.0 or a digest`,
      );
    }
  }
  if (env.name !== 'production') return;
  if (env.gateway.domain === undefined) {
    throw invalid(`${where}.gateway.domain is required: the public host name the Ingress serves, e.g. 'api.${app.name}.example'`);
  }
  if (env.gateway.ingressClass === undefined) {
    throw invalid(`${where}.gateway.ingressClass is required: the IngressClass whose controller serves the gateway, e.g. 'nginx' (kubectl get ingressclass)`);
  }
  const rateLimit = withGatewaySettings(app.gateway, env.gateway.settings).rateLimit;
  const replicas = env.gateway.replicas;
  if (rateLimit && !rateLimit.redis && replicas > 1 && env.gateway.settings.rateLimit?.perReplica !== true) {
    throw invalid(
      `${where}.gateway.rateLimit: the gateway runs ${replicas} replicas and keeps its rate limits in each one's memory, so a client gets up to ${replicas}× every limit; ` +
        `set ${where}.gateway.rateLimit.redis: { url } to share them, or ${where}.gateway.rateLimit.perReplica: true to accept limits per replica`,
    );
  }
}

function invalid(message: string) {
  return platformError('INVALID_CONFIG', message);
}
