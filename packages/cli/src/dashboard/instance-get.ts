import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TlsFiles } from '@carotene/runtime/security';

/** An answer of one instance: its status and body, or why there was none (`ECONNREFUSED`). */
export type InstanceAnswer = { readonly status: number; readonly body: string } | { readonly failed: string };

/** Longest body read from an instance (a metrics page of a big service stays far below). */
const MAX_BODY = 4 * 1024 * 1024;

/**
 * One GET of a service instance or the gateway. An `https:` URL is a service's mutual-TLS
 * listener: `tls` is the identity presented (the files are read on every call, so rotated
 * certificates are picked up). Never rejects.
 *
 * ```ts
 * const answer = await instanceGet('https://127.0.0.1:41234/metrics', tlsFiles(dataDir, 'carrot'));
 * if ('status' in answer && answer.status === 200) parsePrometheus(answer.body);
 * ```
 */
export function instanceGet(url: string, tls: TlsFiles | undefined, timeoutMs = 1_000): Promise<InstanceAnswer> {
  return new Promise((resolve) => {
    let credentials: { ca: string; cert: string; key: string; minVersion: 'TLSv1.3'; checkServerIdentity: () => undefined } | undefined;
    if (url.startsWith('https:')) {
      if (!tls) return resolve({ failed: 'no client certificate for an https instance' });
      try {
        // instances are found by port on loopback; who they are is checked by the calls, not here
        credentials = {
          ca: readFileSync(tls.ca, 'utf8'),
          cert: readFileSync(tls.cert, 'utf8'),
          key: readFileSync(tls.key, 'utf8'),
          minVersion: 'TLSv1.3',
          checkServerIdentity: () => undefined,
        };
      } catch (err) {
        return resolve({ failed: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
      }
    }
    const request = credentials ? httpsRequest : httpRequest;
    const req = request(url, { method: 'GET', agent: false, timeout: timeoutMs, ...credentials }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) return req.destroy(Object.assign(new Error('body too large'), { code: 'body too large' }));
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ failed: err.code ?? err.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ failed: err.code ?? err.message }));
    req.end();
  });
}

/** `HTTP 503` or `ECONNREFUSED`, for humans. */
export function describeAnswer(answer: InstanceAnswer): string {
  return 'status' in answer ? `HTTP ${answer.status}` : answer.failed;
}
