import type { BuildProblem, RuleInput } from './build-problem.ts';

/**
 * Every integration must name a service of the app, and every function the consumer's copy
 * of the contract lists must exist in the provider's contract (a stale or hand-made
 * contract would otherwise fail only at run time). The gateway's key source too.
 */
export function unknownIntegration({ app }: RuleInput): BuildProblem[] {
  const problems: BuildProblem[] = [];
  const byName = new Map(app.services.map((s) => [s.name, s]));
  for (const s of app.services) {
    for (const c of s.integrations) {
      const provider = byName.get(c.name);
      const where = `service '${s.name}', integration '${c.name}'`;
      if (!provider) {
        const known = [...byName.keys()].sort().join(', ');
        problems.push({
          source: s.source,
          rule: 'unknown-integration',
          where,
          message: `names service '${c.name}', which is not part of the app (services: ${known})`,
        });
        continue;
      }
      for (const fn of Object.keys(c.functions).sort()) {
        if (!(fn in provider.contract.functions)) {
          problems.push({
            source: s.source,
            rule: 'unknown-integration',
            where,
            message: `names function '${fn}', which service '${c.name}' does not offer; import the provider's contract.ts instead of a copy`,
          });
        }
      }
    }
  }
  const jwks = app.gateway.auth?.jwks;
  if (jwks) {
    const provider = byName.get(jwks.service);
    if (!provider || !(jwks.function in provider.contract.functions)) {
      problems.push({
        rule: 'unknown-integration',
        where: 'gateway auth',
        message: `reads keys from '${jwks.service}.${jwks.function}', which is not a function of the app`,
      });
    }
  }
  return problems;
}
