// Percentiles, medians and number formatting for the benchmark tables.

/** The p-th percentile (0..100) of `samples`, nearest-rank; NaN when there are none. */
export function percentile(samples: ArrayLike<number>, p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.ceil((Math.min(Math.max(p, 0), 100) / 100) * sorted.length);
  return sorted[Math.max(rank - 1, 0)]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** `a / b` rounded to two decimals, as the tables print it (`1.18×`). */
export function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return 'n/a';
  return `${(a / b).toFixed(2)}×`;
}

/** Milliseconds with three significant digits: `0.123 ms`, `12.3 ms`, `1234 ms`. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 100) return `${Math.round(value)} ms`;
  return `${value.toPrecision(3)} ms`;
}

/** A rate with thousands separators: `12,345/s`. */
export function perSecond(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return `${Math.round(value).toLocaleString('en-US')}/s`;
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
