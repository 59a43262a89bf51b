// Service certificates answer to DNS names for standard clients, beside their SPIFFE identity.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity } from 'node:tls';
import { describe, it } from 'node:test';
import { tlsFiles } from '../../src/security/cert-paths.ts';
import { certificateNames, ensureCertificates } from '../../src/security/cert-store.ts';
import { hostNames } from '../../src/security/certificate-authority.ts';

describe('host names in service certificates', () => {
  it('are the Kubernetes names per namespace, and localhost with 127.0.0.1 under carrot dev', () => {
    assert.deepEqual(hostNames('catalog', { namespaces: ['shop-staging'], local: true }), {
      dns: ['catalog', 'catalog.shop-staging', 'catalog.shop-staging.svc', 'catalog.shop-staging.svc.cluster.local', 'localhost'],
      ips: ['127.0.0.1'],
    });
    assert.deepEqual(hostNames('catalog'), { dns: ['catalog'], ips: [] });
  });

  it('are issued beside the SPIFFE URI, added when asked for, and kept when another command asks for others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carotene-names-'));
    try {
      const first = await ensureCertificates(dir, 'shop', ['catalog'], { names: (id) => hostNames(id, { local: true }) });
      assert.deepEqual(first.issued, ['catalog']);
      const pem = () => readFileSync(tlsFiles(dir, 'catalog').cert, 'utf8');
      const cert = new X509Certificate(pem());
      assert.match(cert.subjectAltName ?? '', /URI:spiffe:\/\/shop\/catalog/);
      assert.equal(checkServerIdentity('localhost', { subjectaltname: cert.subjectAltName } as never), undefined);
      assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
      // nothing new asked: not issued again
      assert.deepEqual((await ensureCertificates(dir, 'shop', ['catalog'], { names: (id) => hostNames(id, { local: true }) })).issued, []);
      // a build asks for the namespace's names: issued again, localhost kept
      const built = await ensureCertificates(dir, 'shop', ['catalog'], { names: (id) => hostNames(id, { namespaces: ['shop-production'] }) });
      assert.deepEqual(built.issued, ['catalog']);
      const names = certificateNames(pem());
      assert.ok(names.dns.includes('localhost') && names.dns.includes('catalog.shop-production.svc.cluster.local'), names.dns.join(', '));
      assert.deepEqual(names.ips, ['127.0.0.1']);
      assert.equal(checkServerIdentity('catalog.shop-production.svc', { subjectaltname: new X509Certificate(pem()).subjectAltName } as never), undefined);
      assert.ok(checkServerIdentity('catalog.elsewhere.svc', { subjectaltname: new X509Certificate(pem()).subjectAltName } as never) instanceof Error);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
