import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { faultSchema, type FaultRule } from 'carotene/model';
import { faultsFile, readFaultsFile, writeFaultsFile } from '@carotene/runtime/resilience';
import { findAppFile, loadApp } from '../app-module.ts';
import { CliError, parseOrUsage, UsageError, type CliIo, type Command } from '../command.ts';

const USAGE = `Usage: carrot faults <add|list|clear> [target] [options]

Injects faults into the calls a running 'carrot dev' serves: latency, errors or dropped
connections, into one service or one function, with a probability. Every service process
watches <data-dir>/faults.json and applies a change within a fraction of a second. Faults
from the app config (environments.<env>.faults) apply as well; this command does not show them.

  carrot faults add catalog --latency 2000
  carrot faults add payments.charge --drop --phase response --probability 0.3
  carrot faults add catalog.getProducts --error INTERNAL --limit 5
  carrot faults list
  carrot faults clear [catalog | catalog.getProducts]

Options:
  --app <dir>          Folder with app.ts, or the app module (default .)
  --data-dir <d>       The app's data folder (default <appDir>/.carotene)
  --latency <ms>       Delay each matching call this long before it runs
  --error [code]       Fail it with UNAVAILABLE (default), INTERNAL or DEADLINE_EXCEEDED
  --drop               Cut the connection without an answer
  --phase <p>          request (default: before the handler) or response (after it ran)
  --probability <p>    Share of matching calls, 0 to 1 (default 1)
  --limit <n>          At most this many calls per process
  -h, --help           Show this help`;

export const faults: Command = {
  name: 'faults',
  summary: 'Inject latency, errors or dropped connections into a running app (faults add|list|clear)',
  usage: USAGE,
  run: runFaults,
};

async function runFaults(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOrUsage(() =>
    parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        app: { type: 'string' },
        'data-dir': { type: 'string' },
        latency: { type: 'string' },
        error: { type: 'string' },
        drop: { type: 'boolean' },
        phase: { type: 'string' },
        probability: { type: 'string' },
        limit: { type: 'string' },
      },
    }),
  );
  const [action, target, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const appFile = findAppFile(values.app ?? '.');
  const app = await loadApp(appFile);
  const file = faultsFile(resolve(values['data-dir'] ?? join(dirname(appFile), '.carotene')));
  const current = readFaultsFile(file);
  const [service, fn] = target === undefined ? [undefined, undefined] : splitTarget(target);
  if (service !== undefined) {
    const def = app.services.find((s) => s.name === service);
    if (!def) throw new CliError(`'${service}' is not a service of app '${app.name}' (it has: ${app.services.map((s) => s.name).join(', ')})`);
    if (def.kind === 'external')
      throw new CliError(`'${service}' is an external service: faults are injected by the callee's Carotene runtime, which it does not run`);
    if (fn !== undefined && !(fn in def.contract.functions)) throw new CliError(`'${service}' has no function '${fn}'`);
  }

  switch (action) {
    case 'add': {
      if (service === undefined) throw new UsageError('faults add needs a target: <service> or <service>.<function>');
      const rule = ruleFrom(service, fn, values);
      await writeFaultsFile(file, [...current, rule]);
      io.out(`carrot faults: added ${describe(rule)} (${current.length + 1} in ${file})`);
      return 0;
    }
    case 'list':
      if (current.length === 0) io.out(`carrot faults: none in ${file}`);
      current.forEach((rule, i) => io.out(`${i + 1}. ${describe(rule)}`));
      return 0;
    case 'clear': {
      const kept = service === undefined ? [] : current.filter((r) => r.service !== service || (fn !== undefined && r.function !== fn));
      await writeFaultsFile(file, kept);
      io.out(`carrot faults: cleared ${current.length - kept.length}, ${kept.length} left`);
      return 0;
    }
    default:
      throw new UsageError(
        action === undefined ? 'expected a sub-command: add, list or clear' : `unknown sub-command '${action}'; expected add, list or clear`,
      );
  }
}

function splitTarget(target: string): [string, string | undefined] {
  const dot = target.indexOf('.');
  return dot === -1 ? [target, undefined] : [target.slice(0, dot), target.slice(dot + 1)];
}

function ruleFrom(service: string, fn: string | undefined, values: Record<string, string | boolean | undefined>): FaultRule {
  const kinds = [values.latency !== undefined, values.error !== undefined, values.drop === true].filter(Boolean).length;
  if (kinds !== 1) throw new UsageError('choose one of --latency <ms>, --error [code] and --drop');
  const number = (name: string): number | undefined => (values[name] === undefined ? undefined : Number(values[name]));
  const common = { service, function: fn, probability: number('probability'), limit: number('limit') };
  const phase = values.phase as string | undefined;
  const raw =
    values.latency !== undefined
      ? { ...common, kind: 'latency', ms: number('latency') }
      : values.drop
        ? { ...common, kind: 'drop', phase }
        : { ...common, kind: 'error', code: values.error === '' ? undefined : values.error, phase };
  const parsed = faultSchema.safeParse(JSON.parse(JSON.stringify(raw)));
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `${i.path.join('.') || 'fault'}: ${i.message}`).join('; '));
  return parsed.data;
}

function describe(rule: FaultRule): string {
  const what = rule.kind === 'latency' ? `latency ${rule.ms} ms` : rule.kind === 'error' ? `error ${rule.code ?? 'UNAVAILABLE'}` : 'drop';
  const phase = rule.kind !== 'latency' && rule.phase === 'response' ? ' after the handler ran' : '';
  const odds = rule.probability === undefined ? '' : ` with probability ${rule.probability}`;
  const limit = rule.limit === undefined ? '' : `, at most ${rule.limit} times`;
  return `${what}${phase} on ${rule.service}${rule.function ? `.${rule.function}` : ''}${odds}${limit}`;
}
