import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { Environment } from '../environment.ts';
import { CONFIG_DIR, configMapName, DATA_DIR, TLS_DIR, tlsSecretName } from './labels.ts';

/** Where the app module sits inside the image (the Dockerfiles copy the workspace to /app). */
export interface ImageLayout {
  /** App module path inside the image, e.g. `/app/examples/shop/app.ts`. */
  readonly appFile: string;
}

/** `<repository>/<name>:<tag>`; the tag was checked by checkDeployable. */
export function imageOf(env: Environment, name: string): string {
  return `${env.image.repository}/${name}:${env.image.tag!}`;
}

/** Runs as the image's unprivileged user, with nothing to escalate to and nothing writable but its volumes. */
export const SECURITY_CONTEXT: NonNullable<IContainer['securityContext']> = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: 1000,
  runAsGroup: 1000,
};

/** The variables a Carotene process reads, for one pod: fixed facts here, shared ones from the ConfigMap. */
export function processEnv(name: string, port: number, layout: ImageLayout, tls: boolean): NonNullable<IContainer['env']> {
  const env = [
    { name: 'CAROTENE_APP_FILE', value: layout.appFile },
    { name: 'CAROTENE_DATA_DIR', value: DATA_DIR },
    { name: 'CAROTENE_HOST', value: '0.0.0.0' },
    { name: 'CAROTENE_PORT', value: String(port) },
    { name: 'CAROTENE_REGISTRY', value: `${CONFIG_DIR}/registry.json` },
    { name: 'CAROTENE_SERVICE', value: name },
  ];
  if (tls) {
    env.push(
      { name: 'CAROTENE_TLS_CA', value: `${TLS_DIR}/ca.crt` },
      { name: 'CAROTENE_TLS_CERT', value: `${TLS_DIR}/tls.crt` },
      { name: 'CAROTENE_TLS_KEY', value: `${TLS_DIR}/tls.key` },
    );
  }
  return env.sort((a, b) => a.name.localeCompare(b.name));
}

/** Volumes of every Carotene pod: shared config, its TLS Secret, its data folder and /tmp. */
export function podVolumes(app: string, name: string): NonNullable<IPodSpec['volumes']> {
  return [
    { name: 'config', configMap: { name: configMapName(app), items: [{ key: 'registry.json', path: 'registry.json' }] } },
    { name: 'data', emptyDir: {} },
    { name: 'tls', secret: { secretName: tlsSecretName(name), defaultMode: 0o440 } },
    { name: 'tmp', emptyDir: {} },
  ];
}

export const VOLUME_MOUNTS: NonNullable<IContainer['volumeMounts']> = [
  { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
  { name: 'data', mountPath: DATA_DIR },
  { name: 'tls', mountPath: TLS_DIR, readOnly: true },
  { name: 'tmp', mountPath: '/tmp' },
];

/**
 * A probe that asks the service's own mutual-TLS listener: the kubelet cannot present a
 * client certificate, so the pod asks itself with its own.
 */
export function tlsProbeCommand(path: '/health' | '/ready'): string[] {
  const script = [
    "const f=require('fs'),e=process.env;",
    `require('https').get({host:'127.0.0.1',port:e.CAROTENE_PORT,path:'${path}',timeout:2000,`,
    'ca:f.readFileSync(e.CAROTENE_TLS_CA),cert:f.readFileSync(e.CAROTENE_TLS_CERT),key:f.readFileSync(e.CAROTENE_TLS_KEY),',
    'checkServerIdentity:()=>undefined},',
    "r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))",
  ].join('');
  return ['node', '-e', script];
}
