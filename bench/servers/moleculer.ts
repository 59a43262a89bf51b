// Moleculer contender: an `echo` action on a broker with the TCP transporter and static peers.
import { ServiceBroker } from 'moleculer';
import { reportReady } from '../lib/child-server.ts';
import { moleculerEchoSchema, tcpBrokerOptions } from '../scenarios/moleculer-setup.ts';

const broker = new ServiceBroker(tcpBrokerOptions('bench-server', Number(process.env.BENCH_SERVER_PORT), Number(process.env.BENCH_CLIENT_PORT)));
broker.createService(moleculerEchoSchema);
await broker.start();
reportReady({ nodeID: 'bench-server' });
process.on('SIGTERM', () => {
  void broker.stop().finally(() => process.exit(0));
});
