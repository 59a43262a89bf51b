import { app } from 'carotene';
import notes from './services/notes/service.ts';

/** The app: its services and the gateway in front of them. `npm run dev` starts it all. */
export default app({
  name: '{{name}}',
  services: [notes],
  gateway: { port: 8080 },
});
