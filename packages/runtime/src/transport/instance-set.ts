/** One instance of a service, with the calls it is answering right now. */
export interface Instance<P> {
  readonly url: string;
  pool: P;
  outstanding: number;
  /** Out of rotation after a failure, until its health check passes again. */
  ejected: boolean;
  ejectedAt: number;
}

export interface InstanceSetOptions<P> {
  readonly urls: readonly string[];
  readonly connect: (url: string) => P;
  /** Resolves true when the instance's health check passes. */
  readonly healthy: (instance: Instance<P>) => Promise<boolean>;
  /** First pause between health checks of an ejected instance; doubles up to `maxProbeDelayMs` (defaults 100 and 5 000). */
  readonly probeDelayMs?: number;
  readonly maxProbeDelayMs?: number;
  /** Told when an instance leaves or rejoins the rotation. */
  readonly onChange?: (event: { url: string; ejected: boolean; reason?: string }) => void;
}

/**
 * The instances of one service and how calls are spread over them: each call goes to the
 * admitted instance with the fewest calls outstanding (ties broken at random, so two idle
 * instances share the load). An instance that failed at the connection level is ejected and
 * its health is probed with backoff until it answers (a ping, with HttpTransport), then it is re-admitted. When every
 * instance is ejected, calls still go to the one ejected longest ago: better a likely failure
 * than a certain one.
 *
 * ```ts
 * const set = new InstanceSet({ urls, connect: (url) => new Pool(url), healthy: probe });
 * const out = await set.run((instance) => instance.pool.request(...));
 * ```
 */
export class InstanceSet<P> {
  readonly instances: ReadonlyArray<Instance<P>>;
  readonly #options: InstanceSetOptions<P>;
  #closed = false;

  constructor(options: InstanceSetOptions<P>) {
    if (options.urls.length === 0) throw new TypeError('a service needs at least one instance');
    this.#options = options;
    this.instances = options.urls.map((url) => ({ url, pool: options.connect(url), outstanding: 0, ejected: false, ejectedAt: 0 }));
  }

  /** The instance for the next call, other than those in `tried` when there is another. */
  pick(tried: ReadonlySet<Instance<P>> = new Set()): Instance<P> {
    // the usual case, and every rule below picks it anyway
    if (this.instances.length === 1) return this.instances[0]!;
    const fresh = this.instances.filter((i) => !tried.has(i));
    const candidates = fresh.length > 0 ? fresh : this.instances;
    const admitted = candidates.filter((i) => !i.ejected);
    if (admitted.length === 0) return candidates.reduce((a, b) => (b.ejectedAt < a.ejectedAt ? b : a));
    const least = Math.min(...admitted.map((i) => i.outstanding));
    const best = admitted.filter((i) => i.outstanding === least);
    return best[Math.floor(Math.random() * best.length)]!;
  }

  /** Runs `call` on `instance`, counting it as outstanding meanwhile. */
  async run<T>(instance: Instance<P>, call: (instance: Instance<P>) => Promise<T>): Promise<T> {
    instance.outstanding += 1;
    try {
      return await call(instance);
    } finally {
      instance.outstanding -= 1;
    }
  }

  /** Takes `instance` out of rotation and probes it until it is healthy again. */
  eject(instance: Instance<P>, reason: string): void {
    if (instance.ejected || this.#closed) return;
    instance.ejected = true;
    instance.ejectedAt = Date.now();
    this.#options.onChange?.({ url: instance.url, ejected: true, reason });
    void this.#probe(instance);
  }

  /** New connections for every instance (credentials rotated); returns the old ones to close. */
  reconnect(): P[] {
    return this.instances.map((instance) => {
      const old = instance.pool;
      instance.pool = this.#options.connect(instance.url);
      return old;
    });
  }

  close(): P[] {
    this.#closed = true;
    return this.instances.map((i) => i.pool);
  }

  async #probe(instance: Instance<P>): Promise<void> {
    let delay = this.#options.probeDelayMs ?? 100;
    const max = this.#options.maxProbeDelayMs ?? 5_000;
    while (!this.#closed && instance.ejected) {
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
      if (this.#closed) return;
      if (await this.#options.healthy(instance).catch(() => false)) {
        instance.ejected = false;
        this.#options.onChange?.({ url: instance.url, ejected: false });
        return;
      }
      delay = Math.min(max, delay * 2);
    }
  }
}
