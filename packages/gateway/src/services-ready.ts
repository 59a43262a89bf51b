import { Agent, request } from 'node:https';
import type { Logger } from '@carotene/runtime/service';
import type { CredentialSource } from '@carotene/runtime/security';
import { instanceUrls, protocolOf, type Registry } from '@carotene/runtime/transport';

/** Pause between two rounds of readiness probes. */
const POLL_MS = 25;

/**
 * Resolves once every instance in the registry answers `GET /ready` with 200 over mutual TLS,
 * or after `withinMs` (with a warning): `carrot dev` starts the gateway together with the
 * services, and the gateway listens only once they can take calls. Resolves with the
 * services still not ready (empty when all are).
 *
 * ```ts
 * await servicesReady(registry, tls, { withinMs: 30_000, log });
 * await gateway.listen(host, port);
 * ```
 */
export async function servicesReady(registry: Registry, tls: CredentialSource, options: { withinMs: number; log: Logger }): Promise<string[]> {
  const { ca, cert, key } = tls.current();
  // one connection per service, kept: a TLS handshake per probe would slow every start-up
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca, cert, key, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined });
  // a gRPC (external) service is waited for by `carrot dev` itself, through grpc.health.v1
  const carotene = Object.entries(registry.services).filter(([, address]) => protocolOf(address) === 'carotene');
  const waiting = new Map(carotene.flatMap(([service, address]) => instanceUrls(address).map((url) => [url, service] as const)));
  const deadline = Date.now() + options.withinMs;
  try {
    while (waiting.size > 0 && Date.now() < deadline) {
      await Promise.all([...waiting.keys()].map(async (url) => (await isReady(url, agent)) && waiting.delete(url)));
      if (waiting.size > 0) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    agent.destroy();
  }
  const late = [...new Set(waiting.values())];
  if (late.length > 0) options.log.warn({ services: late, waitedMs: options.withinMs }, 'gateway listening although some services are not ready yet');
  return late;
}

function isReady(url: string, agent: Agent): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(new URL('/ready', url), { method: 'GET', agent, timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
