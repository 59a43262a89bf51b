// The Carotene side of the RPC benchmark: one service whose function returns its input,
// declared the way a user declares one, so the call runs the whole pipeline. `client` is
// the identity the bench calls as; declaring the integration is what allows it to.
import { app, contract, handler, implement, rpc } from '../../packages/carotene/src/index.ts';
import { OrderSchema } from './payloads.ts';

export const Echo = contract('echo', {
  echo: rpc({ input: OrderSchema, output: OrderSchema }),
});

export const echo = implement(Echo, {}).handlers({
  echo: handler({}, async (order) => order),
});

const Client = contract('client', {});
const client = implement(Client, { integrations: [Echo] }).handlers({});

export default app({ name: 'bench', services: [echo, client] });
