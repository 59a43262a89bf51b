import type { ServiceDef } from 'carotene/model';
import { createHash } from 'node:crypto';
import { Job } from 'kubernetes-models/batch/v1/Job';
import type { AppDef } from 'carotene/model';
import { sortedServices } from '../app-graph.ts';
import type { Environment } from '../environment.ts';
import { configMapName, labels } from './labels.ts';
import { imageOf, podVolumes, processEnv, SECURITY_CONTEXT, VOLUME_MOUNTS, type ImageLayout } from './pod-spec.ts';
import { databaseEnv, MIGRATE_COMMAND } from './service-workload.ts';

/**
 * One Job per service with migrations, for environments whose databases outlive pods
 * (PostgreSQL). Its name carries a hash of the migration names, so a new migration makes a
 * new Job and an unchanged app re-applies nothing. (With SQLite, each pod's init container
 * migrates its own file instead.)
 */
export function migrationJobs(app: AppDef, env: Environment, layout: ImageLayout): Job[] {
  if (env.database.source !== 'secret') return [];
  return sortedServices(app)
    .filter((s): s is ServiceDef => s.kind === 'service' && Object.keys(s.migrations).length > 0)
    .map((s) => {
      const names = Object.keys(s.migrations).sort();
      const hash = createHash('sha256').update(names.join('\n')).digest('hex').slice(0, 8);
      const name = `${s.name}-migrate-${hash}`;
      return new Job({
        metadata: { name, namespace: env.namespace, labels: labels(app.name, s.name, 'migration') },
        spec: {
          backoffLimit: 4,
          ttlSecondsAfterFinished: 86_400,
          template: {
            metadata: { labels: labels(app.name, `${s.name}-migrate`, 'migration') },
            spec: {
              restartPolicy: 'OnFailure',
              serviceAccountName: s.name,
              automountServiceAccountToken: false,
              securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
              containers: [
                {
                  name: 'migrate',
                  image: imageOf(env, s.name),
                  command: MIGRATE_COMMAND,
                  env: [...processEnv(s.name, 0, layout, false), ...databaseEnv(env, s.name)],
                  envFrom: [{ configMapRef: { name: configMapName(app.name) } }],
                  resources: env.services[s.name]!.resources,
                  securityContext: SECURITY_CONTEXT,
                  volumeMounts: VOLUME_MOUNTS,
                },
              ],
              volumes: podVolumes(app.name, s.name),
            },
          },
        },
      });
    });
}
