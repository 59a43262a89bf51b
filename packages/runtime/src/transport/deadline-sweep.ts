import type { RpcConnection } from './rpc-connection.ts';

/**
 * One interval that fails overdue calls on every connection it is given, instead of a timer
 * or an AbortSignal per call. It runs only while calls are waiting, every `tickMs`.
 */
export class DeadlineSweep {
  readonly #connections = new Set<RpcConnection>();
  readonly #tickMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(tickMs = 5) {
    this.#tickMs = tickMs;
  }

  watch(connection: RpcConnection): void {
    this.#connections.add(connection);
    this.#timer ??= setInterval(() => this.#tick(), this.#tickMs).unref();
  }

  forget(connection: RpcConnection): void {
    this.#connections.delete(connection);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const now = Date.now();
    let waiting = 0;
    for (const c of this.#connections) waiting += c.sweep(now);
    if (waiting === 0) this.stop();
  }
}
