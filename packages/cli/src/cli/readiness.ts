import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { TlsFiles } from '@carotene/runtime/security';
import type { RunSpec } from './child-run.ts';
import { describeHealth, grpcHealthCheck } from '../dashboard/grpc-health.ts';

/**
 * One GET of `url`. An `https:` URL is a service's mutual-TLS listener: `tls` names the
 * client certificate to present (read on every probe, so rotated files are picked up).
 * Resolves with the status code, or with the reason the request failed (`ECONNREFUSED`,
 * `timeout`); never rejects.
 */
export function probe(url: string, timeoutMs = 1_000, tls?: TlsFiles): Promise<number | string> {
  return new Promise((resolve) => {
    let credentials: { secureContext: SecureContext; minVersion: 'TLSv1.3'; checkServerIdentity: () => undefined } | undefined;
    if (url.startsWith('https:')) {
      if (!tls) return resolve('no client certificate for an https probe');
      try {
        // the service is found by port on loopback; its identity is checked by the calls, not here
        credentials = { secureContext: contextOf(tls), minVersion: 'TLSv1.3', checkServerIdentity: () => undefined };
      } catch (err) {
        return resolve((err as NodeJS.ErrnoException).code ?? (err as Error).message);
      }
    }
    const request = credentials ? httpsRequest : httpRequest;
    // agent: false so no keep-alive socket outlives the probe
    const req = request(url, { method: 'GET', agent: false, timeout: timeoutMs, ...credentials }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

/** The last TLS context built, by the content of its files. */
let cached: { pem: string; context: SecureContext } | undefined;

/**
 * The client TLS context of `tls`. The files are read on every probe, so rotated ones are
 * picked up; the context (parsing the key, a few milliseconds) is built only when they changed:
 * `carrot dev` probes every service ten times a second while they start.
 */
function contextOf(tls: TlsFiles): SecureContext {
  const [ca, cert, key] = [readFileSync(tls.ca, 'utf8'), readFileSync(tls.cert, 'utf8'), readFileSync(tls.key, 'utf8')];
  const pem = `${ca}\0${cert}\0${key}`;
  if (cached?.pem !== pem) cached = { pem, context: createSecureContext({ ca, cert, key, minVersion: 'TLSv1.3' }) };
  return cached.context;
}

/** What a readiness probe of a process found: ready or not, said for a human, and what was asked. */
export interface ReadyAnswer {
  readonly ready: boolean;
  /** `HTTP 503`, `ECONNREFUSED`, `NOT_SERVING`. */
  readonly answer: string;
  /** `GET https://127.0.0.1:4101/ready`, `grpc.health.v1.Health/Check at https://127.0.0.1:4105`. */
  readonly asked: string;
}

/** Asks a process whether it is ready, the way its spec says (HTTP GET or the gRPC health check). */
export async function probeReady(spec: RunSpec, timeoutMs = 1_000): Promise<ReadyAnswer> {
  if (spec.readyCheck === 'grpc-health') {
    const asked = `grpc.health.v1.Health/Check at ${spec.readyUrl}`;
    if (!spec.readyTls) return { ready: false, answer: 'no client certificate for a gRPC health check', asked };
    const health = await grpcHealthCheck(spec.readyUrl, spec.readyTls, timeoutMs);
    return { ready: 'status' in health && health.status === 'SERVING', answer: describeHealth(health), asked };
  }
  const status = await probe(spec.readyUrl, timeoutMs, spec.readyTls);
  return { ready: status === 200, answer: describeProbe(status), asked: `GET ${spec.readyUrl}` };
}

/** Describes the last probe answer for a human: `HTTP 503` or `ECONNREFUSED`. */
export function describeProbe(answer: number | string | undefined): string {
  if (answer === undefined) return 'no answer yet';
  return typeof answer === 'number' ? `HTTP ${answer}` : answer;
}
