/**
 * A saga as a handler names it in its `sagas` permission and starts it with `ctx.saga`.
 * `saga(...)` returns a full {@link SagaDef}; this is the part handlers and services see.
 */
export interface SagaRef<In = unknown> {
  readonly kind: 'saga';
  readonly name: string;
  /** Type-level only: what `ctx.saga` accepts as input. */
  readonly types?: { readonly input: In };
}

/** Where a saga instance is: it moves running → completed, or running → compensating → compensated. */
export type SagaStatus = 'running' | 'compensating' | 'completed' | 'compensated';

/** Why a saga compensated: the step that failed for good (or ran out of time) and its error. */
export interface SagaFailure {
  readonly step: string;
  readonly code: string;
  readonly message: string;
}

/** What `ctx.saga` resolves with once the instance has finished. */
export interface SagaOutcome {
  readonly id: string;
  readonly status: 'completed' | 'compensated';
  /** Output of each completed step, by step name. */
  readonly results: Readonly<Record<string, unknown>>;
  /** Set when the saga compensated. */
  readonly failure?: SagaFailure | undefined;
}

export interface SagaStartOptions {
  /**
   * Makes the start idempotent: the instance id is `<saga>/<key>`, and starting it again
   * joins the instance that exists (its outcome, or its id) instead of starting another.
   */
  readonly key?: string;
}

/** The input type of a saga reference. */
export type SagaInputOf<S> = S extends SagaRef<infer In> ? In : never;
