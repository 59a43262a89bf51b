import { external } from 'carotene';
import { Catalog } from '../catalog/contract.ts';
import { OrderConfirmed } from '../orders/events.ts';
import { Recommendations } from './contract.ts';

/**
 * Written in Python (server.py) on Debian's grpcio: `carrot dev` runs it as a process of its
 * own with its certificate. It keeps its own record of what is bought together, fed by the
 * orders' OrderConfirmed events (delivered to its `carotene.events.v1.Events/Deliver`), and
 * calls the catalog over gRPC for the products' names and prices.
 */
export default external('recommendations', Recommendations, {
  calls: [Catalog],
  subscribes: [OrderConfirmed],
  routes: { recommend: { route: 'GET /api/products/:id/recommendations', auth: 'none' } },
  dev: {
    command: '/usr/bin/python3',
    args: ['server.py'],
    cwd: 'services/recommendations',
    check: {
      args: [
        '-c',
        'import grpc, google.protobuf, os, shutil, sys; sys.exit(0 if shutil.which("protoc") and shutil.which("grpc_python_plugin") and os.path.exists("/usr/include/google/protobuf/timestamp.proto") else 1)',
      ],
      hint: 'apt-get install python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc libprotobuf-dev',
    },
  },
  deploy: { image: 'shop/recommendations:0.3.0' },
});
