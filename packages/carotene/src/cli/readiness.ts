import { request } from 'node:http';

/**
 * One GET of `url` over plain HTTP. Resolves with the status code, or with the reason the
 * request failed (`ECONNREFUSED`, `timeout`); never rejects.
 */
export function probe(url: string, timeoutMs = 1_000): Promise<number | string> {
  return new Promise((resolve) => {
    // agent: false so no keep-alive socket outlives the probe
    const req = request(url, { method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

/** Describes the last probe answer for a human: `HTTP 503` or `ECONNREFUSED`. */
export function describeProbe(answer: number | string | undefined): string {
  if (answer === undefined) return 'no answer yet';
  return typeof answer === 'number' ? `HTTP ${answer}` : answer;
}
