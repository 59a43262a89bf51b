// grpc-js contender: a unary Echo over HTTP/2 with the protobuf twin of the JSON payload.
import * as grpc from '@grpc/grpc-js';
import { reportReady } from '../lib/child-server.ts';
import { loadEchoService } from '../scenarios/grpc-proto.ts';

const { service } = loadEchoService();
const server = new grpc.Server();
server.addService(service, {
  echo: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => callback(null, call.request),
});
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  reportReady({ address: `127.0.0.1:${port}` });
});
process.on('SIGTERM', () => process.exit(0));
