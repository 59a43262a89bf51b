import { createServer, type Server } from 'node:net';
import { CliError } from './command.ts';

/** Ports `carrot dev` hands out: the gateway's and one per service, all distinct. */
export interface ReservedPorts {
  readonly gateway: number;
  readonly services: number[];
}

/**
 * Checks that the gateway can listen on `host:port` (0 picks a free one) and picks `count`
 * free ports on 127.0.0.1 for the services. Every socket is held until all are chosen, so
 * no two processes get the same port; all are closed again before returning, and the
 * children bind them moments later.
 */
export async function reservePorts(gateway: { host: string; port: number }, count: number): Promise<ReservedPorts> {
  const held: Server[] = [];
  try {
    try {
      held.push(await listen(gateway.host, gateway.port));
    } catch (err) {
      throw new CliError(portMessage(err as NodeJS.ErrnoException, gateway.host, gateway.port));
    }
    for (let i = 0; i < count; i += 1) held.push(await listen('127.0.0.1', 0));
    const [first, ...rest] = held.map(boundPort);
    return { gateway: first ?? gateway.port, services: rest };
  } finally {
    await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** What to tell the user when the gateway cannot listen. */
export function portMessage(err: NodeJS.ErrnoException, host: string, port: number): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return `port ${port} is already in use; stop what holds it or pass --port`;
    case 'EACCES':
      return `listening on port ${port} needs privileges; pass --port with a port above 1023`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `'${host}' is not an address of this machine; pass --host (e.g. 127.0.0.1)`;
    default:
      return `cannot listen on ${host}:${port} (${err.code ?? err.message}); pass --port or --host`;
  }
}

function listen(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port }, () => resolve(server));
  });
}

function boundPort(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  return address.port;
}
