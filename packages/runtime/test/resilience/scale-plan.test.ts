import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppDef } from '../../../carotene/src/declare/app.ts';
import { resolveScale } from '../../../cli/src/cli/scale-plan.ts';

// resolveScale reads only names and environments
const app = (environments?: AppDef['environments']) =>
  ({ kind: 'app', name: 'shop', services: [{ name: 'catalog' }, { name: 'orders' }], gateway: {}, config: {}, environments }) as unknown as AppDef;

describe('carrot dev --scale', () => {
  it('takes --scale flags, and the replicas of the environment when no flag names the service', () => {
    const shop = app({ development: { services: { orders: { replicas: 3 }, catalog: { replicas: 2 } } } });
    assert.deepEqual(
      [...resolveScale(shop, { flags: ['catalog=4'], groups: [] })],
      [
        ['orders', 3],
        ['catalog', 4],
      ],
    );
    assert.deepEqual([...resolveScale(shop, { flags: [], groups: [], environment: 'staging' })], []);
    assert.deepEqual([...resolveScale(app(), { flags: [], groups: [] })], []);
  });

  it('refuses unknown services, bad counts, and scaling a grouped service', () => {
    assert.throws(() => resolveScale(app(), { flags: ['catalgo=2'], groups: [] }), /'catalgo', which is not a service of app 'shop'/);
    assert.throws(() => resolveScale(app(), { flags: ['catalog'], groups: [] }), /--scale takes <service>=<instances>/);
    assert.throws(() => resolveScale(app(), { flags: ['catalog=0'], groups: [] }), /from 1 to 16/);
    const core = [{ name: 'core', services: ['catalog', 'orders'] }];
    assert.throws(() => resolveScale(app(), { flags: ['catalog=2'], groups: core }), /runs in a group/);
    assert.throws(
      () => resolveScale(app({ development: { services: { orders: { replicas: 2 } } } }), { flags: [], groups: core }),
      /replicas is 2, but 'orders' runs in a group/,
    );
    assert.deepEqual([...resolveScale(app(), { flags: ['catalog=1'], groups: core })], [['catalog', 1]]);
  });
});
