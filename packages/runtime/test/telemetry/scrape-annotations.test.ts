// The generated Deployments tell Prometheus where each pod's /metrics is.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import shop from '../../../../examples/shop/app.ts';
import { resolveEnvironment } from '../../../cli/src/build/environment.ts';
import { kubernetesManifests, type Manifest } from '../../../cli/src/build/manifests/kubernetes-manifests.ts';

interface PodTemplate {
  spec: { template: { metadata: { annotations?: Record<string, string> } } };
}

describe('scrape annotations', () => {
  const env = resolveEnvironment(shop, 'production', { imageTag: '1.0.0' });
  const manifests = kubernetesManifests({
    app: shop,
    env: { ...env, certificates: { source: 'cert-manager', issuer: 'shop-ca', issuerKind: 'Issuer' } },
    layout: { appFile: '/app/app.ts' },
    pems: {},
  });
  const deployment = (name: string) => manifests.find((m: Manifest) => m.kind === 'Deployment' && m.metadata.name === name) as unknown as PodTemplate;

  it('points at the gateway in plain HTTP and at each service over HTTPS (mutual TLS)', () => {
    assert.deepEqual(deployment('gateway').spec.template.metadata.annotations, {
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '8080',
      'prometheus.io/path': '/metrics',
    });
    for (const service of shop.services.filter((s) => s.kind === 'service').map((s) => s.name)) {
      assert.deepEqual(
        deployment(service).spec.template.metadata.annotations,
        {
          'prometheus.io/scrape': 'true',
          'prometheus.io/scheme': 'https',
          'prometheus.io/port': '8443',
          'prometheus.io/path': '/metrics',
        },
        service,
      );
    }
    // an external service serves no /metrics of Carotene's: nothing to scrape
    assert.equal(deployment('recommendations').spec.template.metadata.annotations, undefined);
  });
});
