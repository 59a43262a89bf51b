/**
 * A saga as a handler names it in its `sagas` permission and starts it with `ctx.saga`.
 * `saga(...)` returns a full {@link SagaDef}; this is the part handlers and services see.
 */
export interface SagaRef<In = unknown, R extends object = StepResults> {
  readonly kind: 'saga';
  readonly name: string;
  /** Type-level only: what `ctx.saga` accepts as input, and the results its outcome carries. */
  readonly types?: { readonly input: In; readonly results: R };
}

/** The results of a saga's steps by step name, when the steps' types are not known. */
export type StepResults = Readonly<Record<string, unknown>>;

/** Where a saga instance is: it moves running → completed, or running → compensating → compensated. */
export type SagaStatus = 'running' | 'compensating' | 'completed' | 'compensated';

/** Why a saga compensated: the step that failed for good (or ran out of time) and its error. */
export interface SagaFailure {
  readonly step: string;
  readonly code: string;
  readonly message: string;
}

/**
 * What `ctx.saga` resolves with once the instance has finished: the output of each step
 * that completed, by step name (all of them when the saga completed), typed when the saga's
 * steps were declared with `.step(...)`.
 *
 * ```ts
 * const outcome = await ctx.saga(CheckoutSaga, input, { key: id });
 * if (outcome.status === 'completed') return outcome.results.charge.paymentId;
 * ```
 */
export type SagaOutcome<R extends object = StepResults> =
  | { readonly id: string; readonly status: 'completed'; readonly results: R; readonly failure?: undefined }
  | {
      readonly id: string;
      readonly status: 'compensated';
      readonly results: Partial<R>;
      /** The step, code and message that made the saga compensate. */
      readonly failure?: SagaFailure | undefined;
    };

export interface SagaStartOptions {
  /**
   * Makes the start idempotent: the instance id is `<saga>/<key>`, and starting it again
   * joins the instance that exists (its outcome, or its id) instead of starting another.
   */
  readonly key?: string;
}

/** The input type of a saga reference. */
export type SagaInputOf<S> = S extends SagaRef<infer In> ? In : never;

/** The step results of a saga reference, by step name. */
export type SagaResultsOf<S> = S extends SagaRef<unknown, infer R> ? R : StepResults;
