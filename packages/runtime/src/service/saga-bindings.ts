import type { AnyDb } from 'carotene/model';
import type { SagaDef } from 'carotene/model';
import type { ServiceDef } from 'carotene/model';
import type { SagaBinding } from '../sagas/saga-binding.ts';
import { SagaRunner } from '../sagas/saga-runner.ts';
import type { Transport } from '../transport/transport.ts';
import { callIntegration } from './call-clients.ts';
import { HandlerContextImpl, type HandlerBinding } from './handler-context.ts';
import type { Logger } from './logger.ts';

/**
 * The saga runner of one service, or undefined when it declares no sagas. Each saga's steps
 * get a handler's ctx built from the saga's permissions, and their calls go through the
 * normal typed clients, with the step's idempotency key.
 */
export function sagaRunnerFor(options: {
  def: ServiceDef;
  db: AnyDb;
  transport: Transport;
  log: Logger;
  bind: (saga: SagaDef) => HandlerBinding;
}): SagaRunner | undefined {
  const { def, transport } = options;
  // a service object written by hand (plain JavaScript) may leave sagas out
  const sagas = def.sagas ?? [];
  if (sagas.length === 0) return undefined;
  const bindings: SagaBinding[] = sagas.map((saga) => {
    const binding = options.bind(saga);
    return {
      saga,
      context: (meta) => new HandlerContextImpl(binding, meta),
      call: (contract, fn, input, meta, idempotencyKey, timeoutMs) =>
        callIntegration(transport, contract, fn, input, { idempotencyKey, timeoutMs }, meta, def.name),
    };
  });
  return new SagaRunner({ db: options.db, service: def.name, sagas: bindings, log: options.log });
}
