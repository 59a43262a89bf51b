import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppDef } from '../../../carotene/src/declare/app.ts';
import { OTLP_ENDPOINT, planDev } from '../../src/cli/dev-plan.ts';
import { main } from '../../src/cli/main.ts';

// planDev reads only names from the services
const app = { kind: 'app', name: 'shop', services: [{ name: 'users' }, { name: 'orders' }], gateway: {}, config: {} } as unknown as AppDef;
const plan = (env: Record<string, string>, otlpEndpoint?: string) =>
  planDev({
    app,
    appFile: '/apps/shop/app.ts',
    dataDir: '/tmp/x',
    gateway: { host: '127.0.0.1', port: 8080 },
    servicePorts: [1, 2],
    env,
    ...(otlpEndpoint ? { otlpEndpoint } : {}),
  });

describe('carrot dev and the dashboard', () => {
  it('points every process, the gateway included, at the dashboard for traces', () => {
    const specs = plan({ PATH: '/usr/bin' }, 'http://127.0.0.1:9400').specs;
    assert.deepEqual(
      specs.map((s) => [s.name, s.env[OTLP_ENDPOINT]]),
      [
        ['users', 'http://127.0.0.1:9400'],
        ['orders', 'http://127.0.0.1:9400'],
        ['gateway', 'http://127.0.0.1:9400'],
      ],
    );
  });

  it('leaves an endpoint the user set alone, and sets none without a dashboard', () => {
    assert.equal(plan({ [OTLP_ENDPOINT]: 'http://collector:4318' }, 'http://127.0.0.1:9400').specs[0]!.env[OTLP_ENDPOINT], 'http://collector:4318');
    assert.equal(plan({ PATH: '/usr/bin' }).specs[0]!.env[OTLP_ENDPOINT], undefined);
  });

  it('refuses a bad --dashboard-port, and --dashboard-port with --no-dashboard', async () => {
    const run = async (args: string[]) => {
      const err: string[] = [];
      const code = await main(['dev', ...args], { out: () => {}, err: (l) => err.push(l) });
      return { code, err: err[0] };
    };
    assert.deepEqual(await run(['--dashboard-port', 'x']), { code: 2, err: "carrot dev: --dashboard-port must be a number from 0 to 65535, got 'x'" });
    assert.deepEqual(await run(['--dashboard-port', '0', '--no-dashboard']), {
      code: 2,
      err: 'carrot dev: --dashboard-port and --no-dashboard do not go together',
    });
  });
});
