/** One sample of the Prometheus text format: `name{label="v"} 12`. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** From the family's `# TYPE` line: counter, gauge, histogram, summary or untyped. */
  readonly type: string;
}

/** Requests a process has answered since it started, and how many failed on its side. */
export interface RequestTotals {
  readonly requests: number;
  readonly errors: number;
}

/**
 * Parses the Prometheus text exposition format (what prom-client's `register.metrics()`
 * writes). `# TYPE` lines give each sample its family's type; comments, `# HELP` and lines
 * it cannot read are skipped.
 *
 * ```ts
 * parsePrometheus('carotene_requests_total{code="500"} 3\n'); // [{ name: 'carotene_requests_total', labels: { code: '500' }, value: 3, type: 'untyped' }]
 * ```
 */
export function parsePrometheus(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  const types = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const typed = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
    if (typed) types.set(typed[1]!, typed[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = Number(m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : m[4]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    // a histogram's `_count` and `_sum` belong to the family without the suffix
    const family = types.has(m[1]!) ? m[1]! : m[1]!.replace(/_(count|sum|bucket)$/, '');
    samples.push({ name: m[1]!, labels, value, type: types.get(family) ?? 'untyped' });
  }
  return samples;
}

// labels that say how a request ended, in the spellings metrics libraries use
const STATUS_LABELS = ['status_code', 'status', 'code', 'http_status_code', 'http_response_status_code'];
const OUTCOME_LABELS = ['outcome', 'result'];

/** A request the process itself failed: a 5xx status, or an outcome named error/failure. */
export function isServerError(labels: Readonly<Record<string, string>>): boolean {
  for (const key of STATUS_LABELS) {
    const v = labels[key];
    if (v !== undefined && /^\d{3}$/.test(v)) return Number(v) >= 500;
  }
  for (const key of OUTCOME_LABELS) {
    const v = labels[key]?.toLowerCase();
    if (v !== undefined) return v === 'error' || v === 'failure' || v === 'server_error' || v === 'fault';
  }
  return false;
}

/**
 * Requests answered and failed, from a process's metrics: the counters of requests it
 * served (`*_requests_total`, or the `_count` of a request-duration histogram when there is
 * no such counter). Counters of calls it made to others (names with `client`,
 * `integration` or `outgoing`) are left out: a failing callee must not stain its caller.
 * With `service`, samples labelled with another service are left out too (services sharing
 * a process serve one metrics page). Undefined when there is no request counter at all.
 *
 * ```ts
 * requestTotals(parsePrometheus(page), 'orders'); // { requests: 120, errors: 3 }
 * ```
 */
export function requestTotals(samples: readonly MetricSample[], service?: string): RequestTotals | undefined {
  const served = (s: MetricSample) =>
    !/client|integration|outgoing/.test(s.name) && (service === undefined || s.labels.service === undefined || s.labels.service === service);
  // a gauge named like a counter (Node's `nodejs_active_requests_total`) counts nothing
  let chosen = samples.filter((s) => s.name.endsWith('_requests_total') && (s.type === 'counter' || s.type === 'untyped') && served(s));
  if (chosen.length === 0) chosen = samples.filter((s) => /_(request|handler)\w*_seconds_count$/.test(s.name) && served(s));
  if (chosen.length === 0) return undefined;
  // one family only: several families may count the same requests (handler and route)
  const family = chosen[0]!.name;
  let requests = 0;
  let errors = 0;
  for (const s of chosen) {
    if (s.name !== family) continue;
    requests += s.value;
    if (isServerError(s.labels)) errors += s.value;
  }
  return { requests, errors };
}
