import type { Span } from './otlp-spans.ts';

/** One line of the trace list. */
export interface TraceSummary {
  readonly traceId: string;
  /** Name of the root span (the earliest span without a parent in the trace). */
  readonly root: string;
  /** Service of the root span. */
  readonly rootService: string;
  /** Every service with a span in the trace, in order of their first span. */
  readonly services: readonly string[];
  readonly startMs: number;
  readonly durationMs: number;
  readonly spans: number;
  /** Spans whose status is ERROR. */
  readonly errors: number;
}

export interface TraceStoreOptions {
  /** Traces kept; the oldest is forgotten when a new one arrives (default 500). */
  readonly maxTraces?: number;
  /** Spans kept per trace; later ones are dropped and counted (default 2 000). */
  readonly maxSpansPerTrace?: number;
}

interface StoredTrace {
  readonly spans: Map<string, Span>;
  dropped: number;
}

/**
 * The last traces the dashboard received, in memory and bounded: services export their
 * spans in batches, so one trace fills up from several exports; a span seen twice (an
 * exporter's retry) is kept once.
 *
 * ```ts
 * const store = new TraceStore({ maxTraces: 500 });
 * store.add(spansOfExport(body));
 * store.list(50); // newest first
 * ```
 */
export class TraceStore {
  readonly #traces = new Map<string, StoredTrace>();
  readonly #maxTraces: number;
  readonly #maxSpans: number;
  readonly #listeners = new Set<(traceIds: readonly string[]) => void>();

  constructor(options: TraceStoreOptions = {}) {
    this.#maxTraces = options.maxTraces ?? 500;
    this.#maxSpans = options.maxSpansPerTrace ?? 2_000;
  }

  /** Stores spans; resolves which traces changed, and tells the listeners. */
  add(spans: readonly Span[]): string[] {
    const changed = new Set<string>();
    for (const span of spans) {
      let trace = this.#traces.get(span.traceId);
      if (!trace) {
        trace = { spans: new Map(), dropped: 0 };
        this.#traces.set(span.traceId, trace);
        // Map keeps insertion order: the first key is the trace seen longest ago
        while (this.#traces.size > this.#maxTraces) this.#traces.delete(this.#traces.keys().next().value!);
      }
      if (trace.spans.size >= this.#maxSpans && !trace.spans.has(span.spanId)) {
        trace.dropped += 1;
        continue;
      }
      trace.spans.set(span.spanId, span);
      changed.add(span.traceId);
    }
    const ids = [...changed].filter((id) => this.#traces.has(id));
    if (ids.length > 0) for (const listener of this.#listeners) listener(ids);
    return ids;
  }

  /** Summaries of the newest traces first (by the start of their earliest span). */
  list(limit = 100): TraceSummary[] {
    const all = [...this.#traces.keys()].map((id) => this.summary(id)!);
    return all.sort((a, b) => b.startMs - a.startMs).slice(0, limit);
  }

  summary(traceId: string): TraceSummary | undefined {
    const trace = this.#traces.get(traceId);
    if (!trace) return undefined;
    const spans = [...trace.spans.values()].sort((a, b) => a.startMs - b.startMs);
    const root = spans.find((s) => s.parentSpanId === '' || !trace.spans.has(s.parentSpanId)) ?? spans[0]!;
    const start = spans[0]!.startMs;
    const end = Math.max(...spans.map((s) => s.endMs));
    return {
      traceId,
      root: root.name,
      rootService: root.service,
      services: [...new Set(spans.map((s) => s.service))],
      startMs: start,
      durationMs: end - start,
      spans: spans.length,
      errors: spans.filter((s) => s.error).length,
    };
  }

  /** Every span of one trace, by start time, and how many were dropped over the limit. */
  get(traceId: string): { spans: Span[]; dropped: number } | undefined {
    const trace = this.#traces.get(traceId);
    if (!trace) return undefined;
    return { spans: [...trace.spans.values()].sort((a, b) => a.startMs - b.startMs), dropped: trace.dropped };
  }

  get size(): number {
    return this.#traces.size;
  }

  /** Calls `listener` with the ids of the traces that changed; returns the unsubscribe. */
  onChange(listener: (traceIds: readonly string[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
