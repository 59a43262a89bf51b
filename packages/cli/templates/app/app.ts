import { app } from 'carotene';
import notes from './services/notes/service.ts';

/** The app: its services and the gateway in front of them. `npm run dev` starts it all. */
export default app({
  name: '{{name}}',
  services: [notes],
  gateway: { port: 8080 },
  environments: {
    // `npm run build` writes production manifests: the public host name and the IngressClass
    // that serves it are yours to say (TLS comes from the Secret {{name}}-gateway-tls)
    production: { gateway: { domain: '{{name}}.example.com', ingressClass: 'nginx' } },
  },
});
