// Load loops on loopback, each bounded both in calls and in time.

export interface LoadResult {
  /** Latency of each successful call, in milliseconds. */
  readonly samples: Float64Array;
  readonly completed: number;
  readonly errors: number;
  readonly elapsedMs: number;
  /** The first error seen, to print when `errors` is not 0. */
  readonly firstError?: unknown;
}

export interface LoadLimits {
  /** At most this many calls. */
  readonly count: number;
  /** Stops issuing new calls after this long. */
  readonly maxMs: number;
}

/** Calls one at a time: each call starts when the previous one has answered. */
export function sequential(call: () => Promise<unknown>, limits: LoadLimits): Promise<LoadResult> {
  return concurrent(call, { ...limits, inFlight: 1 });
}

/** Keeps `inFlight` calls outstanding until the count or the time is used up. */
export async function concurrent(call: () => Promise<unknown>, limits: LoadLimits & { readonly inFlight: number }): Promise<LoadResult> {
  const samples = new Float64Array(limits.count);
  let issued = 0;
  let completed = 0;
  let errors = 0;
  let firstError: unknown;
  const started = performance.now();
  const stopAt = started + limits.maxMs;
  const worker = async () => {
    while (issued < limits.count && performance.now() < stopAt) {
      issued++;
      const t0 = performance.now();
      try {
        await call();
        samples[completed++] = performance.now() - t0;
      } catch (err) {
        errors++;
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limits.inFlight) }, worker));
  const elapsedMs = performance.now() - started;
  return { samples: samples.subarray(0, completed), completed, errors, elapsedMs, firstError };
}

/** Successful calls per second of a run. */
export function throughput(result: LoadResult): number {
  return (result.completed / result.elapsedMs) * 1000;
}

/** Joins the samples of several rounds into one array, for percentiles over all of them. */
export function joinSamples(results: readonly LoadResult[]): Float64Array {
  const out = new Float64Array(results.reduce((n, r) => n + r.samples.length, 0));
  let at = 0;
  for (const r of results) {
    out.set(r.samples, at);
    at += r.samples.length;
  }
  return out;
}
