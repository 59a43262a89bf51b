/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): reading and writing the
 * `traceparent` and `tracestate` headers by the letter of the spec, so that an id from
 * outside is either continued exactly or replaced, never half-trusted.
 */

/** The parts of a valid `traceparent` that a span continues. */
export interface TraceParent {
  readonly traceId: string;
  readonly spanId: string;
  /** The trace flags byte; bit 0 is `sampled`. */
  readonly flags: number;
}

/** The two headers as they travel on internal calls and in event envelopes. */
export interface TraceHeaders {
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
}

/** Limits the spec asks every participant to keep (section 3.3.1.5). */
export const TRACESTATE_MAX_MEMBERS = 32;
export const TRACESTATE_MAX_LENGTH = 512;
/** Members longer than this are the first dropped when the header is too long. */
const TRACESTATE_LONG_MEMBER = 128;

const HEX2 = /^[\da-f]{2}$/;
const TRACE_ID = /^[\da-f]{32}$/;
const SPAN_ID = /^[\da-f]{16}$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
// simple-key / multi-tenant key (tenant@system), and a value of printable ASCII without ',' and '='
const KEY = /^(?:[a-z][a-z\d_\-*/]{0,255}|[a-z\d][a-z\d_\-*/]{0,240}@[a-z][a-z\d_\-*/]{0,13})$/;
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * Parses a `traceparent` header; `undefined` when it is invalid (then a new trace starts).
 * Version `00` must be exactly 55 characters; a later version may carry more fields after a
 * `-`, which are ignored; version `ff`, upper-case hex and all-zero ids are invalid.
 *
 * ```ts
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
 * // { traceId: '4bf9…', spanId: '00f0…', flags: 1 }
 * ```
 */
export function parseTraceparent(header: string | undefined): TraceParent | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  const version = value.slice(0, 2);
  if (!HEX2.test(version) || version === 'ff') return undefined;
  if (version === '00' ? value.length !== 55 : value.length < 55 || (value.length > 55 && value[55] !== '-')) return undefined;
  if (value[2] !== '-' || value[35] !== '-' || value[52] !== '-') return undefined;
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!TRACE_ID.test(traceId) || traceId === ZERO_TRACE) return undefined;
  if (!SPAN_ID.test(spanId) || spanId === ZERO_SPAN) return undefined;
  if (!HEX2.test(flags)) return undefined;
  return { traceId, spanId, flags: Number.parseInt(flags, 16) };
}

/** Writes a version-00 `traceparent`; only the sampled bit of `flags` is kept (the spec's only defined flag). */
export function formatTraceparent(parent: TraceParent): string {
  return `00-${parent.traceId}-${parent.spanId}-${(parent.flags & 1) === 1 ? '01' : '00'}`;
}

/**
 * Checks a `tracestate` header and brings it within the spec's limits: `undefined` when it
 * is malformed or has a key twice (the whole header is then discarded, as the spec says);
 * at most 32 members (the left-most); and at most 512 characters, dropping members over 128 characters
 * first and then from the right.
 *
 * ```ts
 * boundTracestate('congo=t61rcWkgMzE, rojo=00f067aa0ba902b7'); // 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'
 * ```
 */
export function boundTracestate(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const members: string[] = [];
  const keys = new Set<string>();
  for (const raw of header.split(',')) {
    const member = raw.trim();
    if (member === '') continue; // empty list members are allowed and dropped
    const eq = member.indexOf('=');
    if (eq <= 0) return undefined;
    const key = member.slice(0, eq);
    const value = member.slice(eq + 1);
    if (!KEY.test(key) || !VALUE.test(value) || keys.has(key)) return undefined;
    keys.add(key);
    members.push(member);
  }
  // the left-most members are the most recent: keep those
  let kept = members.slice(0, TRACESTATE_MAX_MEMBERS);
  const length = (list: readonly string[]) => list.reduce((n, m) => n + m.length, 0) + Math.max(0, list.length - 1);
  if (length(kept) > TRACESTATE_MAX_LENGTH) kept = kept.filter((m) => m.length <= TRACESTATE_LONG_MEMBER);
  while (length(kept) > TRACESTATE_MAX_LENGTH) kept = kept.slice(0, -1);
  return kept.length === 0 ? undefined : kept.join(',');
}
