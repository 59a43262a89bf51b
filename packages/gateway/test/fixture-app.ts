// The app module the gateway process loads in main.test.ts.
import { testApp } from './fixtures.ts';

export default testApp({ timeoutMs: 2000 });
