// Bare Node with mutual TLS: node:https asking for the client's certificate, parse the JSON
// body, answer it back. The same certificates and TLS version as the Carotene contender, so
// the difference between the two is Carotene's own work.
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tlsFiles } from '../../packages/runtime/src/security/cert-paths.ts';
import { readCredentials } from '../../packages/runtime/src/security/credentials.ts';
import { reportReady } from '../lib/child-server.ts';

const { ca, cert, key } = readCredentials(tlsFiles(process.env.BENCH_DATA_DIR!, 'echo'));
const server = createServer({ ca, cert, key, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3', keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.stringify(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => reportReady({ url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` }));
process.on('SIGTERM', () => process.exit(0));
