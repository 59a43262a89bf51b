import type { CallOptions, Contract } from 'carotene/model';
import { stepFailed, type StepContext } from 'carotene/model';
import type { SagaFailure } from 'carotene/model';
import { permittedCalls } from 'carotene/model';
import type { TraceHeaders } from '../telemetry/trace-context.ts';
import type { SagaBinding } from './saga-binding.ts';
import type { SagaRow } from './saga-store.ts';

/**
 * The `ctx` of one try of a step or compensation. Its calls carry the step's idempotency
 * key (a second call to the same function within the step gets `#2`, and so on, so a
 * retry, which makes the same calls in the same order, reuses each key).
 */
export function stepContext(o: {
  binding: SagaBinding;
  row: SagaRow;
  step: string;
  key: string;
  attempt: number;
  deadline: number;
  failure: SagaFailure | undefined;
  service: string;
  /** The step span's trace context, which the step's calls carry. */
  trace?: TraceHeaders;
}): StepContext<never> {
  const { binding, row, step, key } = o;
  const meta = { caller: o.service, requestId: `${row.id}/${step}`, deadline: o.deadline, ...o.trace };
  const tools = binding.context(meta);
  const uses = new Map<string, number>();
  const clients = new Map<string, object>();
  for (const contract of binding.saga.permissions.calls ?? []) if (contract.kind === 'contract') clients.set(contract.name, clientOf(contract));
  function clientOf(contract: Contract): object {
    const client: Record<string, (input: unknown, options?: CallOptions) => Promise<unknown>> = {};
    for (const fn of Object.keys(contract.functions)) {
      client[fn] = (input, options) => {
        const n = (uses.get(`${contract.name}.${fn}`) ?? 0) + 1;
        uses.set(`${contract.name}.${fn}`, n);
        return binding.call(contract, fn, input, meta, n === 1 ? key : `${key}#${n}`, options?.timeoutMs);
      };
    }
    return client;
  }
  const owner = `${o.service}.saga(${row.saga})`;
  const call = permittedCalls(clients, owner, "saga's");
  const ctx = {
    call,
    store: tools.store,
    transaction: <T>(fn: (store: object) => Promise<T>) => tools.transaction(fn),
    publish: tools.publish,
    http: tools.http,
    results: JSON.parse(row.results) as Record<string, unknown>,
    sagaId: row.id,
    step,
    attempt: o.attempt,
    idempotencyKey: key,
    failure: o.failure,
    log: tools.log,
    fail: (message: string, details?: unknown) => stepFailed(row.saga, step, message, details),
  };
  // the runtime checks every permission; the step's declared types describe this object
  return ctx as unknown as StepContext<never>;
}
