import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { tlsFiles } from '../../../runtime/src/security/cert-paths.ts';
import { ensureCertificates } from '../../../runtime/src/security/cert-store.ts';
import { decodeResponse, describeHealth, encodeRequest, grpcHealthCheck } from '../../src/dashboard/grpc-health.ts';
import { tempDir } from '../cli/helpers.ts';

describe('the grpc.health.v1 messages', () => {
  it('frames a request for the whole server or one service', () => {
    assert.deepEqual([...encodeRequest('')], [0, 0, 0, 0, 0]);
    assert.deepEqual([...encodeRequest('ab')], [0, 0, 0, 0, 4, 0x0a, 2, 0x61, 0x62]);
  });

  it('reads the status, skipping other fields, and refuses what is not an answer', () => {
    const frame = (...bytes: number[]) => Buffer.from([0, 0, 0, 0, bytes.length, ...bytes]);
    assert.deepEqual(decodeResponse(frame(0x08, 1)), { status: 'SERVING' });
    assert.deepEqual(decodeResponse(frame(0x08, 2)), { status: 'NOT_SERVING' });
    assert.deepEqual(decodeResponse(frame()), { status: 'UNKNOWN' }, 'proto3: an absent enum is its zero');
    assert.deepEqual(decodeResponse(frame(0x12, 1, 0x41, 0x08, 3)), { status: 'SERVICE_UNKNOWN' });
    assert.deepEqual(decodeResponse(Buffer.from([0, 0, 0])), { error: 'the answer had no message' });
    assert.deepEqual(decodeResponse(Buffer.from([1, 0, 0, 0, 0])), { error: 'the answer was compressed, which this check does not ask for' });
    assert.deepEqual(decodeResponse(Buffer.from([0, 0, 0, 0, 5, 0x08])), { error: 'the answer was cut short' });
    assert.equal(describeHealth(undefined), 'no answer yet');
  });
});

describe('grpcHealthCheck against a gRPC server over mutual TLS', () => {
  const dir = join(tempDir(), 'data');
  const servers: grpc.Server[] = [];
  const urls: Record<string, string> = {};
  let status = 1;

  const listen = async (name: string, withHealth: boolean): Promise<void> => {
    const server = new grpc.Server();
    if (withHealth) {
      const identity = (x: Buffer) => x;
      server.addService(
        {
          Check: {
            path: '/grpc.health.v1.Health/Check',
            requestStream: false,
            responseStream: false,
            requestSerialize: identity,
            requestDeserialize: identity,
            responseSerialize: () => Buffer.from([0x08, status]),
            responseDeserialize: identity,
          },
        },
        { Check: (_call: unknown, callback: (err: null, value: object) => void) => callback(null, {}) },
      );
    }
    const tls = tlsFiles(dir, 'svc');
    const credentials = grpc.ServerCredentials.createSsl(
      readFileSync(tls.ca),
      [{ private_key: readFileSync(tls.key), cert_chain: readFileSync(tls.cert) }],
      true,
    );
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))));
    servers.push(server);
    urls[name] = `https://127.0.0.1:${port}`;
  };

  before(async () => {
    await ensureCertificates(dir, 'app', ['svc', 'carrot']);
    await listen('health', true);
    await listen('bare', false);
  });
  after(() => {
    for (const s of servers) s.forceShutdown();
  });

  it('answers the serving status to a client the app CA signed', async () => {
    status = 1;
    assert.deepEqual(await grpcHealthCheck(urls.health!, tlsFiles(dir, 'carrot')), { status: 'SERVING' });
    status = 2;
    assert.deepEqual(await grpcHealthCheck(urls.health!, tlsFiles(dir, 'carrot')), { status: 'NOT_SERVING' });
  });

  it('says why when there is no status: no health service, a stranger certificate, nothing listening, missing files', async () => {
    const bare = await grpcHealthCheck(urls.bare!, tlsFiles(dir, 'carrot'));
    assert.ok('error' in bare && /^gRPC UNIMPLEMENTED.*\(the server does not serve grpc\.health\.v1\.Health\)$/.test(bare.error), JSON.stringify(bare));
    const elsewhere = join(tempDir(), 'other');
    await ensureCertificates(elsewhere, 'other', ['carrot']);
    const stranger = tlsFiles(elsewhere, 'carrot');
    const refused = await grpcHealthCheck(urls.health!, { ca: tlsFiles(dir, 'carrot').ca, cert: stranger.cert, key: stranger.key });
    assert.ok('error' in refused, JSON.stringify(refused));
    assert.deepEqual(await grpcHealthCheck('https://127.0.0.1:1', tlsFiles(dir, 'carrot')), { error: 'ECONNREFUSED' });
    assert.deepEqual(await grpcHealthCheck(urls.health!, { ...tlsFiles(dir, 'carrot'), key: '/nonexistent' }), { error: 'ENOENT' });
  });
});
