export interface BackoffOptions {
  /** First delay in milliseconds (default 250). */
  readonly initialMs?: number;
  /** Longest delay (default 10 000). */
  readonly maxMs?: number;
  /** A process that stayed up this long starts again from `initialMs` (default 30 000). */
  readonly resetAfterMs?: number;
}

/**
 * Restart delays that double on every crash in a row, up to a ceiling, and fall back to
 * the first delay once the process has been up long enough.
 *
 * ```ts
 * const b = new Backoff({ initialMs: 250, maxMs: 10_000 });
 * b.next(upForMs); // 250, then 500, 1000, ...
 * ```
 */
export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly resetAfterMs: number;
  #current: number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 250;
    this.maxMs = options.maxMs ?? 10_000;
    this.resetAfterMs = options.resetAfterMs ?? 30_000;
    this.#current = this.initialMs;
  }

  /** Delay before the next restart, given how long the process was up (0 if never ready). */
  next(upForMs: number): number {
    if (upForMs >= this.resetAfterMs) this.#current = this.initialMs;
    const delay = this.#current;
    this.#current = Math.min(this.#current * 2, this.maxMs);
    return delay;
  }
}
