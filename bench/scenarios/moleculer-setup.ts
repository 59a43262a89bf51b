// Moleculer settings shared by its server process and the bench's client broker.
import type { BrokerOptions, ServiceSchema } from 'moleculer';

/** Same checks as the Carotene contract, in Moleculer's own validator (on by default). */
export const moleculerEchoSchema: ServiceSchema = {
  name: 'echo',
  actions: {
    echo: {
      params: {
        id: { type: 'string', max: 64 },
        customer: { type: 'string', max: 64 },
        items: {
          type: 'array',
          max: 100,
          items: {
            type: 'object',
            props: { sku: { type: 'string', max: 32 }, qty: { type: 'number', integer: true, min: 1 }, priceCents: { type: 'number', integer: true, min: 0 } },
          },
        },
        note: { type: 'string', max: 1000 },
      },
      handler: (ctx: { params: unknown }) => ctx.params,
    },
  },
};

/** Two nodes that know each other's address: no UDP discovery, loopback only. */
export function tcpBrokerOptions(nodeID: string, serverPort: number, clientPort: number): BrokerOptions {
  const own = nodeID === 'bench-server' ? serverPort : clientPort;
  return {
    nodeID,
    logger: false,
    transporter: {
      type: 'TCP',
      options: {
        udpDiscovery: false,
        port: own,
        urls: [`127.0.0.1:${serverPort}/bench-server`, `127.0.0.1:${clientPort}/bench-client`],
      },
    },
  };
}

export const localBrokerOptions: BrokerOptions = { nodeID: 'bench-local', logger: false };
