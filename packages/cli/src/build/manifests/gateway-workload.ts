import type { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { bundledCommand } from '../dockerfile.ts';
import type { Environment } from '../environment.ts';
import { configMapName, GATEWAY, GATEWAY_PORT, labels } from './labels.ts';
import { imageOf, processEnv, SECURITY_CONTEXT, VOLUME_MOUNTS, type ImageLayout } from './pod-spec.ts';
import { podDeployment, type WorkloadInput } from './service-workload.ts';

const RUN_COMMAND = bundledCommand('gateway');

/** The gateway's Deployment: the public listener, plain HTTP behind the Ingress, probes on /health and /ready. */
export function gatewayDeployment(app: string, env: Environment, layout: ImageLayout): Deployment {
  const input: WorkloadInput = { app, name: GATEWAY, env, layout };
  return podDeployment(input, env.gateway.replicas, 'gateway', {
    containers: [
      {
        name: GATEWAY,
        image: imageOf(env, GATEWAY),
        imagePullPolicy: 'IfNotPresent',
        command: RUN_COMMAND,
        env: processEnv(GATEWAY, GATEWAY_PORT, layout, true),
        envFrom: [{ configMapRef: { name: configMapName(app) } }],
        ports: [{ name: 'http', containerPort: GATEWAY_PORT, protocol: 'TCP' }],
        livenessProbe: { httpGet: { path: '/health', port: 'http' }, initialDelaySeconds: 5, periodSeconds: 10, failureThreshold: 3 },
        readinessProbe: { httpGet: { path: '/ready', port: 'http' }, initialDelaySeconds: 3, periodSeconds: 5, failureThreshold: 3 },
        resources: env.gateway.resources,
        securityContext: SECURITY_CONTEXT,
        volumeMounts: VOLUME_MOUNTS,
      },
    ],
  });
}

/**
 * The only way in from outside: every path of the gateway's domain goes to the gateway,
 * through the environment's ingress class, over TLS from a named Secret or from a
 * certificate cert-manager issues for the domain (its ingress-shim reads the annotation).
 */
export function gatewayIngress(app: string, env: Environment): Ingress {
  const { tls, ingressClass } = env.gateway;
  const domain = env.gateway.domain!;
  const issuer =
    tls.source === 'cert-manager'
      ? { [tls.issuerKind === 'ClusterIssuer' ? 'cert-manager.io/cluster-issuer' : 'cert-manager.io/issuer']: tls.issuer }
      : undefined;
  return new Ingress({
    metadata: { name: GATEWAY, namespace: env.namespace, labels: labels(app, GATEWAY, 'gateway'), ...(issuer ? { annotations: issuer } : {}) },
    spec: {
      ...(ingressClass ? { ingressClassName: ingressClass } : {}),
      ...(tls.source === 'none' ? {} : { tls: [{ hosts: [domain], secretName: tls.secretName }] }),
      rules: [
        {
          host: domain,
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: GATEWAY, port: { name: 'http' } } } }] },
        },
      ],
    },
  });
}
