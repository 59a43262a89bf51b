// Mutual TLS between real services on real sockets: who gets in, who is refused, and how.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { isCaroteneError } from '../../../carotene/src/errors.ts';
import { createLogger } from '../../src/service/logger.ts';
import { startServiceHost, type ServiceHost } from '../../src/service/service-host.ts';
import { createCertificateAuthority, issueCertificate } from '../../src/security/certificate-authority.ts';
import { fixedCredentials, type CredentialSource, type TlsCredentials } from '../../src/security/credentials.ts';
import { HttpTransport } from '../../src/transport/http-transport.ts';
import { InProcessTransport, LocalServices } from '../../src/transport/in-process-transport.ts';
import type { Registry } from '../../src/transport/transport.ts';
import { testPki, type TestPki } from '../fixtures/certs.ts';
import fixture from '../fixtures/two-services.ts';

/** Opens a TLS connection, sends one request, and reports how it ended. */
function tryHandshake(port: number, options: ConnectionOptions): Promise<{ ok: true; status: string } | { ok: false; code: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, checkServerIdentity: () => undefined, ...options });
    let data = '';
    socket.on('secureConnect', () => socket.write('GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'));
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, code: err.code ?? err.message }));
    socket.on('close', () => resolve(data ? { ok: true, status: data.split('\r\n')[0]! } : { ok: false, code: 'closed without an answer' }));
  });
}

describe('mutual TLS between services', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carotene-mtls-'));
  const registry: { app: string; gateway: { url: string }; services: Record<string, { url: string }> } = { app: 'fixture', gateway: { url: '' }, services: {} };
  let pki: TestPki;
  let echo: ServiceHost;
  let relay: ServiceHost;
  let echoPort: number;
  const clients: HttpTransport[] = [];
  const log = createLogger('test', 'silent');
  const meta = () => ({ caller: 'gateway', requestId: `r-${Math.random()}`, deadline: Date.now() + 5_000 });
  const client = (identity: string, tls: CredentialSource = pki.credentials(identity), reg: Registry = registry as Registry): HttpTransport => {
    const c = new HttpTransport({ caller: identity, registry: reg, tls });
    clients.push(c);
    return c;
  };

  before(async () => {
    pki = await testPki('fixture', ['echo', 'relay', 'gateway']);
    const host = async (service: string): Promise<ServiceHost> =>
      startServiceHost({
        app: fixture,
        service,
        host: '127.0.0.1',
        port: 0,
        database: { file: join(dir, `${service}.sqlite`) },
        transport: client(service),
        tls: pki.credentials(service),
        log,
      });
    echo = await host('echo');
    registry.services.echo = { url: echo.url };
    relay = await host('relay');
    registry.services.relay = { url: relay.url };
    echoPort = Number(new URL(echo.url).port);
  });

  after(async () => {
    for (const c of clients) await c.close();
    await relay.close();
    await echo.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(pki.dataDir, { recursive: true, force: true });
  });

  it('accepts a certificate of the app and serves the call', async () => {
    const { ca, cert, key } = pki.credentials('relay').current();
    assert.deepEqual(await tryHandshake(echoPort, { ca, cert, key }), { ok: true, status: 'HTTP/1.1 200 OK' });
    assert.deepEqual(await client('relay').call('echo', 'echo', { text: 'hi' }, meta()), { text: 'hi', caller: 'relay' });
  });

  it('refuses a client without a certificate at the handshake', async () => {
    const { ca } = pki.credentials('relay').current();
    const result = await tryHandshake(echoPort, { ca });
    assert.equal(result.ok, false);
    assert.match((result as { code: string }).code, /CERTIFICATE_REQUIRED|ECONNRESET|closed without an answer/);
    // the same through an HTTP client: no answer at all, not an HTTP error
    const agent = new Agent({ connect: { ca, checkServerIdentity: () => undefined } });
    await assert.rejects(request(`${echo.url}/health`, { dispatcher: agent }), (err: NodeJS.ErrnoException) =>
      /CERTIFICATE_REQUIRED|ECONNRESET|socket/i.test(`${err.code} ${err.message}`),
    );
    await agent.close();
  });

  it('refuses a certificate from another CA, even one naming a service of the app', async () => {
    const other = await testPki('fixture', ['relay']);
    const { cert, key } = other.credentials('relay').current();
    const { ca } = pki.credentials('relay').current();
    const result = await tryHandshake(echoPort, { ca, cert, key });
    assert.equal(result.ok, false);
    assert.match((result as { code: string }).code, /UNKNOWN_CA|ECONNRESET|closed without an answer/);
    // and a client that trusts only the other CA refuses the service
    const impostorTrust = client('relay', other.credentials('relay'));
    await assert.rejects(impostorTrust.call('echo', 'echo', { text: 'x' }, meta()), (err) => isCaroteneError(err, 'UNAVAILABLE'));
    rmSync(other.dataDir, { recursive: true, force: true });
  });

  it('refuses TLS below 1.3', async () => {
    const { ca, cert, key } = pki.credentials('relay').current();
    const result = await tryHandshake(echoPort, { ca, cert, key, maxVersion: 'TLSv1.2' });
    assert.equal(result.ok, false);
    assert.match((result as { code: string }).code, /VERSION|ECONNRESET/);
  });

  it('answers 403 CALLER_NOT_ALLOWED, naming caller and callee, to a service that did not declare the dependency', async () => {
    // echo's certificate is valid, but echo does not list relay in its integrations
    await assert.rejects(client('echo').call('relay', 'relay', { text: 'x' }, meta()), (err) => {
      assert.ok(isCaroteneError(err, 'CALLER_NOT_ALLOWED'));
      assert.equal(err.status, 403);
      assert.match(err.message, /'echo' may not call relay\.relay/);
      assert.deepEqual(err.details, { caller: 'echo', callee: 'relay', function: 'relay' });
      return true;
    });
    // the gateway may call relay's public routes, but not echo, which has none
    await assert.rejects(client('gateway').call('echo', 'echo', { text: 'x' }, meta()), (err) => {
      assert.ok(isCaroteneError(err, 'CALLER_NOT_ALLOWED'));
      assert.match(err.message, /'gateway' may not call echo\.echo/);
      return true;
    });
    // and learns nothing about which functions exist
    await assert.rejects(client('gateway').call('echo', 'noSuchFunction', {}, meta()), (err) => isCaroteneError(err, 'CALLER_NOT_ALLOWED'));
  });

  it('takes the caller from the certificate, never from a header', async () => {
    const { ca, cert, key } = pki.credentials('echo').current();
    const agent = new Agent({ connect: { ca, cert, key, checkServerIdentity: () => undefined } });
    const res = await request(`${relay.url}/rpc/relay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'carotene-caller': 'gateway' },
      body: JSON.stringify({ text: 'x' }),
      dispatcher: agent,
    });
    assert.equal(res.statusCode, 403);
    const body = (await res.body.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'CALLER_NOT_ALLOWED');
    assert.match(body.error.message, /'echo' may not call/);
    await agent.close();
  });

  it("refuses a certificate from the app's CA that names another app's identity", async () => {
    const caFile = join(pki.dataDir, 'certs', 'ca');
    const { readFileSync } = await import('node:fs');
    const ca = { cert: readFileSync(join(caFile, 'ca.crt'), 'utf8'), key: readFileSync(join(caFile, 'ca.key'), 'utf8') };
    const foreign = await issueCertificate(ca, 'other-app', 'gateway');
    const creds: TlsCredentials = { ca: ca.cert, cert: foreign.cert, key: foreign.key };
    await assert.rejects(client('gateway', fixedCredentials(creds)).call('relay', 'relay', { text: 'x' }, meta()), (err) => {
      assert.ok(isCaroteneError(err, 'CALLER_NOT_ALLOWED'));
      assert.match(err.message, /'\(no identity\)' may not call relay\.relay/);
      return true;
    });
  });

  it("checks the server's identity: a registry entry pointing at the wrong service gets no call", async () => {
    const misrouted = { app: 'fixture', gateway: { url: '' }, services: { echo: { url: relay.url } } };
    await assert.rejects(client('relay', pki.credentials('relay'), misrouted).call('echo', 'echo', { text: 'secret' }, meta()), (err) => {
      assert.ok(isCaroteneError(err, 'UNAVAILABLE'));
      assert.match(err.message, /is not spiffe:\/\/fixture\/echo/);
      return true;
    });
  });

  it('a self-made CA with the same name is still another CA', async () => {
    const fake = await createCertificateAuthority('fixture');
    const leaf = await issueCertificate(fake, 'fixture', 'relay');
    const result = await tryHandshake(echoPort, { ca: pki.credentials('relay').current().ca, cert: leaf.cert, key: leaf.key });
    assert.equal(result.ok, false);
  });

  it('applies the same check to a call between services of one process', async () => {
    const local = new LocalServices();
    local.register('relay', relay.runtime);
    local.register('echo', echo.runtime);
    await assert.rejects(new InProcessTransport('echo', local).call('relay', 'relay', { text: 'x' }, meta()), (err) => {
      assert.ok(isCaroteneError(err, 'CALLER_NOT_ALLOWED'));
      assert.match(err.message, /'echo' may not call relay\.relay/);
      return true;
    });
    assert.deepEqual(await new InProcessTransport('relay', local).call('echo', 'echo', { text: 'in process' }, meta()), {
      text: 'in process',
      caller: 'relay',
    });
  });
});
