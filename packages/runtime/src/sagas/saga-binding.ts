import type { Contract } from 'carotene/model';
import type { Log } from 'carotene/model';
import type { SagaDef } from 'carotene/model';
import type { CallMeta } from '../transport/transport.ts';

/** The parts of a handler's ctx a step uses, built by the runtime from the saga's permissions. */
export interface StepTools {
  readonly store: object;
  transaction<T>(fn: (store: object) => Promise<T>): Promise<T>;
  readonly publish: (...args: never[]) => Promise<void>;
  /** `ctx.http`: the saga's HTTP integrations. */
  readonly http: object;
  readonly log: Log;
}

/** What the runtime gives the runner for one saga: a ctx bound to its permissions, and its calls. */
export interface SagaBinding {
  readonly saga: SagaDef;
  /** `store`, `transaction`, `publish` and `log` of a handler's ctx with the saga's permissions. */
  context(meta: CallMeta): StepTools;
  call(contract: Contract, fn: string, input: unknown, meta: CallMeta, idempotencyKey: string, timeoutMs: number | undefined): Promise<unknown>;
}
