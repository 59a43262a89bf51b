import type { CallMeta, Transport } from './transport.ts';

/**
 * Sends each call to the service's own process when it runs in this one (`local`), and over
 * the network otherwise (`remote`). Which services are local is fixed when the process
 * starts, so a co-located service that is not up yet answers UNAVAILABLE instead of being
 * looked for on the network.
 *
 * ```ts
 * new RoutingTransport({ colocated: ['users', 'catalog'], local: new InProcessTransport('users', services),
 *                        remote: new HttpTransport({ caller: 'users', registry }) });
 * ```
 */
export class RoutingTransport implements Transport {
  readonly #colocated: ReadonlySet<string>;
  readonly #local: Transport;
  readonly #remote: Transport;

  constructor(options: { colocated: Iterable<string>; local: Transport; remote: Transport }) {
    this.#colocated = new Set(options.colocated);
    this.#local = options.local;
    this.#remote = options.remote;
  }

  /** True when calls to `service` stay in this process. */
  isLocal(service: string): boolean {
    return this.#colocated.has(service);
  }

  call(service: string, fn: string, input: unknown, meta: CallMeta): Promise<unknown> {
    return (this.#colocated.has(service) ? this.#local : this.#remote).call(service, fn, input, meta);
  }

  async close(): Promise<void> {
    await Promise.all([this.#local.close(), this.#remote.close()]);
  }
}
