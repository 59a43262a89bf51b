// Certificate rotation under load: real services, real sockets, real files being replaced.
import assert from 'node:assert/strict';
import { randomUUID, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/service/logger.ts';
import { startServiceHost, type ServiceHost } from '../../src/service/service-host.ts';
import { tlsFiles } from '../../src/security/cert-paths.ts';
import { ensureCertificates, rotateCertificates } from '../../src/security/cert-store.ts';
import { fixedCredentials, readCredentials, watchCredentials } from '../../src/security/credentials.ts';
import { HttpTransport } from '../../src/transport/http-transport.ts';
import fixture from '../fixtures/two-services.ts';

/** Fingerprint of the certificate a server presents to a new connection. */
function presented(port: number, dataDir: string): Promise<string> {
  const { ca, cert, key } = readCredentials(tlsFiles(dataDir, 'relay'));
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, cert, key, checkServerIdentity: () => undefined }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('carrot certs rotate, under load', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'carotene-rotate-'));
  const log = createLogger('test', 'silent');
  let echo: ServiceHost;
  let relayClient: HttpTransport;
  const sources: Array<{ close(): void }> = [];
  const registry = { app: 'fixture', gateway: { url: '' }, services: {} as Record<string, { url: string }> };

  before(async () => {
    await ensureCertificates(dataDir, 'fixture', ['echo', 'relay']);
    const echoTls = watchCredentials(tlsFiles(dataDir, 'echo'), { debounceMs: 20 });
    const relayTls = watchCredentials(tlsFiles(dataDir, 'relay'), { debounceMs: 20 });
    sources.push(echoTls, relayTls);
    echo = await startServiceHost({
      app: fixture,
      service: 'echo',
      host: '127.0.0.1',
      port: 0,
      database: { file: join(dataDir, 'echo.sqlite') },
      transport: new HttpTransport({ caller: 'echo', registry, tls: echoTls }),
      tls: echoTls,
      log,
    });
    registry.services.echo = { url: echo.url };
    relayClient = new HttpTransport({ caller: 'relay', registry, tls: relayTls });
  });

  after(async () => {
    await relayClient.close();
    await echo.close();
    for (const s of sources) s.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('replaces every certificate while calls keep succeeding', async () => {
    const port = Number(new URL(echo.url).port);
    const before = await presented(port, dataDir);
    const oldRelay = readCredentials(tlsFiles(dataDir, 'relay'));
    let ok = 0;
    const failures: string[] = [];
    let running = true;
    const worker = async () => {
      while (running) {
        try {
          await relayClient.call('echo', 'echo', { text: 'x' }, { caller: 'relay', requestId: randomUUID(), deadline: Date.now() + 5_000 });
          ok++;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);

    const lines: string[] = [];
    await rotateCertificates(dataDir, 'fixture', { settleMs: 300, print: (l) => lines.push(l) });
    // the server presents its new certificate to new connections once it has reloaded
    const until = Date.now() + 5_000;
    let after = before;
    while (after === before && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      after = await presented(port, dataDir);
    }
    await new Promise((r) => setTimeout(r, 200));
    running = false;
    await Promise.all(workers);

    assert.notEqual(after, before, 'the service reloaded its certificate without a restart');
    assert.equal(after, new X509Certificate(readFileSync(tlsFiles(dataDir, 'echo').cert)).fingerprint256);
    assert.deepEqual(failures, [], 'no call failed during the rotation');
    assert.ok(ok > 50, `calls kept flowing (${ok})`);
    assert.deepEqual(
      lines.filter((l) => l.startsWith('issued')),
      ['issued echo', 'issued relay'],
    );

    // a process that reloaded the bundle but not yet its own certificate is still accepted
    const bundle = readFileSync(tlsFiles(dataDir, 'relay').ca, 'utf8');
    assert.equal(bundle.match(/BEGIN CERTIFICATE/g)?.length, 2, 'the bundle holds the new and the previous CA');
    const halfway = new HttpTransport({ caller: 'relay', registry, tls: fixedCredentials({ ca: bundle, cert: oldRelay.cert, key: oldRelay.key }) });
    assert.deepEqual(await halfway.call('echo', 'echo', { text: 'old cert' }, { caller: 'relay', requestId: randomUUID(), deadline: Date.now() + 5_000 }), {
      text: 'old cert',
      caller: 'relay',
    });
    await halfway.close();

    for (const f of ['ca/ca.key', 'ca/ca.crt', 'ca-bundle.pem', 'echo.key', 'echo.crt', 'relay.key']) {
      assert.equal(statSync(join(dataDir, 'certs', f)).mode & 0o777, 0o600, f);
    }
  });

  it('keeps the previous credentials when a rotation leaves a key that does not match its certificate', async () => {
    const files = tlsFiles(dataDir, 'echo');
    const errors: unknown[] = [];
    const source = watchCredentials(files, { debounceMs: 10, onError: (e) => errors.push(e) });
    const current = source.current();
    const { writeFileSync } = await import('node:fs');
    const relayKey = readFileSync(tlsFiles(dataDir, 'relay').key, 'utf8');
    writeFileSync(files.key, relayKey, { mode: 0o600 });
    source.reload();
    assert.equal(source.current(), current, 'still the working pair');
    assert.equal(errors.length, 1);
    writeFileSync(files.key, current.key, { mode: 0o600 });
    source.close();
  });
});
