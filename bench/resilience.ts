// What the resilience policies add to one integration call, in process: the same resolved
// call with and without CallPolicies (breaker, bulkhead, per-attempt deadline; and the retry
// wrapper for idempotent calls). Best of three rounds, so a busy machine shows less noise.
//
//   node --import tsx bench/resilience.ts
import { loadavg } from 'node:os';
import { CallPolicies } from '../packages/runtime/src/resilience/call-policies.ts';

const CALLS = 200_000;
const policies = new CallPolicies();
const answer = async (): Promise<number> => 1;

async function perCall(once: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < CALLS / 10; i += 1) await once();
  const started = performance.now();
  for (let i = 0; i < CALLS; i += 1) await once();
  return ((performance.now() - started) * 1_000) / CALLS;
}

const cases: Record<string, () => Promise<unknown>> = {
  'no policies': answer,
  'policies, not idempotent': () =>
    policies.call({ caller: 'orders', callee: 'catalog', fn: 'reserve', idempotent: false, deadline: Date.now() + 5_000 }, answer),
  'policies, idempotent (retry wrapper)': () =>
    policies.call({ caller: 'orders', callee: 'catalog', fn: 'get', idempotent: true, deadline: Date.now() + 5_000 }, answer),
};
const best = new Map<string, number>();
for (let round = 0; round < 3; round += 1) {
  for (const [name, once] of Object.entries(cases)) best.set(name, Math.min(best.get(name) ?? Infinity, await perCall(once)));
}
console.log(`| case | µs per call (best of 3 × ${CALLS}) |\n| --- | --- |`);
for (const [name, us] of best) console.log(`| ${name} | ${us.toFixed(2)} |`);
console.log(
  `\nload average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
