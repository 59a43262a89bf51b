import type { AppDef } from 'carotene/model';
import { ENVIRONMENT_NAMES, type EnvironmentName } from 'carotene/model';
import type { FaultRule, ResilienceSettings } from 'carotene/model';
import { platformError } from 'carotene/model';
import { onBreakerStateChange } from './breaker-hooks.ts';
import { CallPolicies, installCallPolicies } from './call-policies.ts';
import { FaultInjector, installFaults } from './fault-injector.ts';
import { faultsFile, watchFaultsFile } from './faults-file.ts';

/** The log lines of resilience: a pino logger fits. */
export interface ResilienceLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface SetupResilienceOptions {
  readonly app: AppDef;
  /** Whose `resilience` and `faults` apply (`CAROTENE_ENVIRONMENT`, default `development`). */
  readonly environment: string;
  /** The app's data folder, where `carrot faults` writes `faults.json`. */
  readonly dataDir: string;
  readonly log: ResilienceLog;
}

/**
 * Installs this process's call policies and fault injection from the app's environment:
 * every breaker state change becomes a JSON log line (`event: 'breaker'`), and the faults
 * file is watched so `carrot faults add|clear` takes effect within a fraction of a second.
 * Returns the function that stops watching.
 *
 * ```ts
 * const stop = setupResilience({ app, environment: 'development', dataDir, log });
 * ```
 */
export function setupResilience(options: SetupResilienceOptions): () => void {
  const { app, log } = options;
  const { resilience, faults } = environmentSettings(app, options.environment);
  checkNames(app, options.environment, resilience, faults);
  installCallPolicies(new CallPolicies(resilience, { log }));
  const offBreakers = onBreakerStateChange((c) =>
    log.warn({ event: 'breaker', caller: c.caller, dependency: c.dependency, from: c.from, to: c.to }, `circuit breaker of ${c.dependency} is ${c.to}`),
  );
  const injector = new FaultInjector(faults);
  installFaults(injector);
  let shown = '[]';
  const stopWatching = watchFaultsFile(
    faultsFile(options.dataDir),
    (rules) => {
      injector.setDynamic(rules);
      const now = JSON.stringify(rules);
      if (now !== shown)
        log.info({ event: 'faults', faults: rules }, rules.length === 0 ? 'injected faults cleared' : `${rules.length} injected fault(s) in force`);
      shown = now;
    },
    { onError: (err) => log.warn({ err }, 'the faults file could not be read; the previous faults stay in force') },
  );
  return () => {
    stopWatching();
    offBreakers();
    installFaults(undefined);
    installCallPolicies(undefined);
  };
}

function environmentSettings(app: AppDef, environment: string): { resilience: ResilienceSettings | undefined; faults: FaultRule[] } {
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(environment)) {
    throw platformError('INVALID_CONFIG', `environment '${environment}' is not one of ${ENVIRONMENT_NAMES.join(', ')}`);
  }
  const settings = app.environments?.[environment as EnvironmentName];
  return { resilience: settings?.resilience, faults: settings?.faults ?? [] };
}

/** A policy or fault for a service or function the app does not have is a typo: refuse it. */
function checkNames(app: AppDef, environment: string, resilience: ResilienceSettings | undefined, faults: readonly FaultRule[]): void {
  const where = `environments.${environment}`;
  const fail = (message: string): never => {
    throw platformError('INVALID_CONFIG', `app '${app.name}': ${message}`);
  };
  const check = (path: string, service: string, fn: string | undefined): void => {
    const def = app.services.find((s) => s.name === service);
    if (!def) fail(`${path} names '${service}', which is not a service of the app`);
    if (fn !== undefined && !(fn in def!.contract.functions)) fail(`${path} names '${service}.${fn}', which its contract does not declare`);
  };
  for (const [service, integration] of Object.entries(resilience?.integrations ?? {})) {
    check(`${where}.resilience.integrations.${service}`, service, undefined);
    for (const fn of Object.keys(integration.functions ?? {})) check(`${where}.resilience.integrations.${service}.functions.${fn}`, service, fn);
  }
  faults.forEach((f, i) => check(`${where}.faults.${i}`, f.service, f.function));
}
