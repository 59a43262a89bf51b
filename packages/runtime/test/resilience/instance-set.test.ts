import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InstanceSet } from '../../src/transport/instance-set.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function set(urls: string[], healthy: (url: string) => boolean = () => true) {
  const changes: string[] = [];
  const instances = new InstanceSet<string>({
    urls,
    connect: (url) => `pool:${url}`,
    healthy: async (i) => healthy(i.url),
    probeDelayMs: 5,
    maxProbeDelayMs: 20,
    onChange: (e) => changes.push(`${e.url} ${e.ejected ? 'out' : 'in'}`),
  });
  return { instances, changes };
}

describe('instance set (load balancing)', () => {
  it('sends each call to the instance with the fewest calls outstanding', async () => {
    const { instances } = set(['a', 'b', 'c']);
    const gates: Array<() => void> = [];
    const hold = (picked: string[]) => {
      const instance = instances.pick();
      picked.push(instance.url);
      return instances.run(instance, () => new Promise<void>((r) => gates.push(r)));
    };
    const picked: string[] = [];
    const calls = [hold(picked), hold(picked), hold(picked)];
    assert.deepEqual([...picked].sort(), ['a', 'b', 'c'], 'three calls in flight: one each');
    gates[1]!();
    await calls[1];
    const freed = picked[1]!;
    assert.equal(instances.pick().url, freed, 'the next call goes to the instance that finished');
    for (const g of gates) g();
    await Promise.all(calls);
    assert.deepEqual(
      instances.instances.map((i) => i.outstanding),
      [0, 0, 0],
    );
  });

  it('ejects a failed instance, routes around it, and re-admits it when healthy again', async () => {
    let bHealthy = false;
    const { instances, changes } = set(['a', 'b'], (url) => url !== 'b' || bHealthy);
    const b = instances.instances[1]!;
    instances.eject(b, 'ECONNREFUSED');
    for (let i = 0; i < 20; i += 1) assert.equal(instances.pick().url, 'a');
    assert.equal(instances.pick(new Set([instances.instances[0]!])).url, 'b', 'with a tried, only b is left: better than nothing');
    await sleep(60);
    assert.equal(b.ejected, true, 'still failing its health check');
    bHealthy = true;
    const deadline = Date.now() + 5_000;
    while (b.ejected && Date.now() < deadline) await sleep(5);
    assert.equal(b.ejected, false);
    assert.deepEqual(changes, ['b out', 'b in']);
    const seen = new Set(Array.from({ length: 40 }, () => instances.pick().url));
    assert.deepEqual([...seen].sort(), ['a', 'b'], 'idle instances share the calls');
    instances.close();
  });

  it('when every instance is ejected, uses the one ejected longest ago', async () => {
    const { instances } = set(['a', 'b'], () => false);
    instances.eject(instances.instances[1]!, 'reset');
    await sleep(2);
    instances.eject(instances.instances[0]!, 'reset');
    assert.equal(instances.pick().url, 'b');
    instances.close();
  });
});
