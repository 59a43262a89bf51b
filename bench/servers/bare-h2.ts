// Candidate wire for internal calls: bare node:http2 with mutual TLS (one session per client,
// streams multiplexed), parse the JSON body, answer it back. Measured beside the others with
// BENCH_RPC_H2=1 (see docs/transport.md for why frames were chosen over it).
import { createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tlsFiles } from '../../packages/runtime/src/security/cert-paths.ts';
import { readCredentials } from '../../packages/runtime/src/security/credentials.ts';
import { reportReady } from '../lib/child-server.ts';

const { ca, cert, key } = readCredentials(tlsFiles(process.env.BENCH_DATA_DIR!, 'echo'));
const server = createSecureServer({ ca, cert, key, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' });
server.on('stream', (stream) => {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => {
    const body = JSON.stringify(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    stream.respond({ ':status': 200, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    stream.end(body);
  });
});
server.listen(0, '127.0.0.1', () => reportReady({ url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` }));
process.on('SIGTERM', () => process.exit(0));
