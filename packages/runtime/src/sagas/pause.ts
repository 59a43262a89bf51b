/**
 * Waits `ms`, or less: until `until` settles or `signal` aborts, whichever comes first.
 * The timer is cleared either way, so a wait that ended early leaves nothing behind that
 * would keep the process (or a test file) alive.
 *
 * ```ts
 * await pause(backoff, { signal: stopping });          // a retry's backoff, cut short by close()
 * await pause(left, { until: driving });               // wake when the instance ends, at most `left`
 * ```
 */
export function pause(ms: number, options: { until?: Promise<unknown>; signal?: AbortSignal } = {}): Promise<void> {
  const { until, signal } = options;
  if (signal?.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
    until?.then(done, done);
  });
}
