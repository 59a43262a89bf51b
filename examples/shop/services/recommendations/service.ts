import { external } from 'carotene';
import { Catalog } from '../catalog/contract.ts';
import { Orders } from '../orders/contract.ts';
import { Recommendations } from './contract.ts';

/**
 * Written in Python (server.py) on Debian's grpcio: `carrot dev` runs it as a process of its
 * own with its certificate, and it calls the catalog and orders over gRPC with it.
 */
export default external('recommendations', Recommendations, {
  calls: [Catalog, Orders],
  routes: { recommend: { route: 'GET /api/products/:id/recommendations', auth: 'none' } },
  dev: {
    command: '/usr/bin/python3',
    args: ['server.py'],
    cwd: 'services/recommendations',
    check: {
      args: ['-c', 'import grpc, google.protobuf, shutil, sys; sys.exit(0 if shutil.which("protoc") and shutil.which("grpc_python_plugin") else 1)'],
      hint: 'apt-get install python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc',
    },
  },
  deploy: { image: 'shop/recommendations:0.2.0' },
});
