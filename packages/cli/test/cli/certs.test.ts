import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { certs } from '../../src/cli/commands/certs.ts';
import { CliError, UsageError } from '../../src/cli/command.ts';
import { ensureCertificates } from '../../../runtime/src/security/cert-store.ts';
import { hostNames } from '../../../runtime/src/security/certificate-authority.ts';
import { tempDir } from './helpers.ts';

const ECHO_APP = fileURLToPath(new URL('./fixtures/echo-app', import.meta.url));

function capture() {
  const lines: string[] = [];
  return { lines, io: { out: (l: string) => void lines.push(l), err: (l: string) => void lines.push(l) } };
}

test('carrot certs rotate issues a new CA and certificates, keeping the previous CA trusted', async () => {
  const dataDir = tempDir();
  try {
    // as carrot dev issues them: with localhost beside the identity's own name
    await ensureCertificates(dataDir, 'echo-app', ['echo', 'gateway', 'carrot'], { names: (identity) => hostNames(identity, { local: true }) });
    const caBefore = readFileSync(join(dataDir, 'certs', 'ca', 'ca.crt'), 'utf8');
    const echoBefore = readFileSync(join(dataDir, 'certs', 'echo.crt'), 'utf8');
    const { lines, io } = capture();
    assert.equal(await certs.run(['rotate', ECHO_APP, '--data-dir', dataDir, '--settle-ms', '0'], io), 0);
    const caAfter = readFileSync(join(dataDir, 'certs', 'ca', 'ca.crt'), 'utf8');
    const echoAfter = readFileSync(join(dataDir, 'certs', 'echo.crt'), 'utf8');
    assert.notEqual(caAfter, caBefore);
    assert.notEqual(echoAfter, echoBefore);
    assert.ok(new X509Certificate(echoAfter).checkIssued(new X509Certificate(caAfter)));
    const bundle = readFileSync(join(dataDir, 'certs', 'ca-bundle.pem'), 'utf8');
    assert.ok(bundle.includes(caAfter.trim()) && bundle.includes(caBefore.trim()), 'the bundle trusts the new and the previous CA');
    assert.deepEqual(
      lines.filter((l) => l.includes('issued')).map((l) => l.trim()),
      ['issued carrot', 'issued echo', 'issued gateway'],
    );

    // a second rotation drops the oldest CA
    assert.equal(await certs.run(['rotate', ECHO_APP, '--data-dir', dataDir, '--settle-ms', '0'], capture().io), 0);
    const bundle2 = readFileSync(join(dataDir, 'certs', 'ca-bundle.pem'), 'utf8');
    assert.ok(!bundle2.includes(caBefore.trim()));
    assert.ok(bundle2.includes(caAfter.trim()));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('carrot certs rotate explains what is missing', async () => {
  const dataDir = tempDir();
  try {
    await assert.rejects(
      certs.run(['rotate', ECHO_APP, '--data-dir', dataDir], capture().io),
      (err) => err instanceof CliError && /'carrot dev' creates it/.test(err.message),
    );
    await assert.rejects(certs.run([], capture().io), UsageError);
    await assert.rejects(certs.run(['renew'], capture().io), /unknown sub-command 'renew'/);
    await assert.rejects(certs.run(['rotate', '--settle-ms', 'soon'], capture().io), /--settle-ms/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
