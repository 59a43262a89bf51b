import type { TraceState } from '@opentelemetry/api';

/**
 * W3C Trace Context Level 2 (https://www.w3.org/TR/trace-context-2/): reading and writing
 * the `traceparent` and `tracestate` headers by the letter of the spec, for every boundary
 * (the gateway, internal calls, outbound HTTP, event envelopes), so that an id from outside
 * is either continued exactly or replaced, never half-trusted, and never fatal.
 */

/** The parts of a valid `traceparent` that a span continues. */
export interface TraceParent {
  readonly traceId: string;
  readonly spanId: string;
  /** The trace flags byte as received; bit 0 is `sampled`, bit 1 `random`. */
  readonly flags: number;
}

/** The two headers as they travel on internal calls and in event envelopes. */
export interface TraceHeaders {
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
}

/** One `key=value` member of a `tracestate` list. */
export interface TracestateMember {
  readonly key: string;
  readonly value: string;
}

/** The caller may have recorded trace data. */
export const FLAG_SAMPLED = 0x01;
/** The right-most 7 bytes of the trace id are random (Level 2); Carotene's ids are random throughout. */
export const FLAG_RANDOM = 0x02;
/** The flags this version of the spec defines; the others are sent as zero. */
const KNOWN_FLAGS = FLAG_SAMPLED | FLAG_RANDOM;

/** Limits the spec asks every participant to keep. */
export const TRACESTATE_MAX_MEMBERS = 32;
export const TRACESTATE_MAX_LENGTH = 512;
/** Members longer than this are the first dropped when the header is too long. */
const TRACESTATE_LONG_MEMBER = 128;
/** A future traceparent longer than this is "prohibitively large" and restarts the trace. */
const TRACEPARENT_MAX_LENGTH = 512;

const HEX2 = /^[\da-f]{2}$/;
const TRACE_ID = /^[\da-f]{32}$/;
const SPAN_ID = /^[\da-f]{16}$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
// Level 2: a lower-case letter or digit, then up to 255 of a-z 0-9 _ - * / @, which takes in
// simple keys (`congo`) and multi-tenant keys (`tenant@system`) alike
const KEY = /^[a-z\d][a-z\d_\-*/@]{0,255}$/;
// up to 256 printable ASCII characters but ',' and '=', the last one not a space
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
// optional white space around list members (RFC 9110 OWS: spaces and horizontal tabs)
const OWS = /^[ \t]+|[ \t]+$/g;

/**
 * Parses a `traceparent` header; `undefined` when it is invalid (then a new trace starts).
 * Version `00` must be exactly 55 characters; a later version is read for its first three
 * fields when it is at least 55 characters and any more fields follow a `-` (the spec's rule
 * for versions it does not know); version `ff`, upper-case hex and all-zero ids are invalid.
 *
 * ```ts
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03');
 * // { traceId: '4bf9…', spanId: '00f0…', flags: 3 }
 * ```
 */
export function parseTraceparent(header: string | undefined): TraceParent | undefined {
  if (header === undefined) return undefined;
  const value = header.replace(OWS, '');
  const version = value.slice(0, 2);
  if (!HEX2.test(version) || version === 'ff' || value[2] !== '-') return undefined;
  if (version === '00' ? value.length !== 55 : value.length < 55 || value.length > TRACEPARENT_MAX_LENGTH || (value.length > 55 && value[55] !== '-')) {
    return undefined;
  }
  if (value[35] !== '-' || value[52] !== '-') return undefined;
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!TRACE_ID.test(traceId) || traceId === ZERO_TRACE) return undefined;
  if (!SPAN_ID.test(spanId) || spanId === ZERO_SPAN) return undefined;
  if (!HEX2.test(flags)) return undefined;
  return { traceId, spanId, flags: Number.parseInt(flags, 16) };
}

/**
 * Writes a version-00 `traceparent` (the highest version known here, so a future version is
 * downgraded): `sampled` and `random` are kept, the flags not defined yet are sent as zero.
 */
export function formatTraceparent(parent: TraceParent): string {
  return `00-${parent.traceId}-${parent.spanId}-${(parent.flags & KNOWN_FLAGS).toString(16).padStart(2, '0')}`;
}

/**
 * The trace headers of an HTTP request, as Node gives them (a string, or an array for a
 * repeated field): several `tracestate` fields are one list joined by commas (RFC 9110
 * field order), several `traceparent` fields are invalid (a new trace starts).
 *
 * ```ts
 * traceHeadersOf(req.headers.traceparent, req.headers.tracestate)
 * ```
 */
export function traceHeadersOf(traceparent: string | readonly string[] | undefined, tracestate: string | readonly string[] | undefined): TraceHeaders {
  const parent = typeof traceparent === 'string' ? traceparent : traceparent?.length === 1 ? traceparent[0] : undefined;
  const state = typeof tracestate === 'string' ? tracestate : tracestate?.join(',');
  return { ...(parent === undefined ? {} : { traceparent: parent }), ...(state === undefined ? {} : { tracestate: state }) };
}

/**
 * Parses a `tracestate` list; `undefined` when a member is malformed (the header is then
 * dropped whole: a participant may not guess at a vendor's opaque state). Empty and
 * white-space members are skipped; a key seen again is dropped (the left-most entry is the
 * most recent position); at most the 32 left-most members are kept.
 *
 * ```ts
 * parseTracestate('rojo=00f067aa0ba902b7, congo=t61rcWkgMzE');
 * // [{ key: 'rojo', value: '00f067aa0ba902b7' }, { key: 'congo', value: 't61rcWkgMzE' }]
 * ```
 */
export function parseTracestate(header: string | undefined): TracestateMember[] | undefined {
  if (header === undefined) return undefined;
  const members: TracestateMember[] = [];
  const keys = new Set<string>();
  for (const raw of header.split(',')) {
    // leading spaces of a value are part of it; the trailing ones are white space
    const member = raw.replace(OWS, '');
    if (member === '') continue;
    const eq = member.indexOf('=');
    if (eq <= 0) return undefined;
    const key = member.slice(0, eq);
    const value = member.slice(eq + 1);
    if (!KEY.test(key) || !VALUE.test(value)) return undefined;
    if (keys.has(key)) continue;
    keys.add(key);
    members.push({ key, value });
  }
  return members.slice(0, TRACESTATE_MAX_MEMBERS);
}

/**
 * Writes a `tracestate` list within the spec's limits: at most 32 members and 512
 * characters, truncating whole members, those over 128 characters first (from the right),
 * then from the right; `undefined` when nothing is left (no empty header is sent).
 */
export function formatTracestate(members: readonly TracestateMember[] | undefined): string | undefined {
  if (!members || members.length === 0) return undefined;
  let kept = members.slice(0, TRACESTATE_MAX_MEMBERS).map((m) => `${m.key}=${m.value}`);
  const length = (list: readonly string[]) => list.reduce((n, m) => n + m.length, 0) + Math.max(0, list.length - 1);
  while (length(kept) > TRACESTATE_MAX_LENGTH) {
    const long = kept.findLastIndex((m) => m.length > TRACESTATE_LONG_MEMBER);
    kept = long >= 0 ? kept.filter((_, i) => i !== long) : kept.slice(0, -1);
  }
  return kept.length === 0 ? undefined : kept.join(',');
}

/**
 * A received `tracestate` as it travels on: parsed, validated and bounded; `undefined` when
 * it is absent, empty or malformed.
 *
 * ```ts
 * boundTracestate('congo=t61rcWkgMzE, rojo=00f067aa0ba902b7'); // 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'
 * ```
 */
export function boundTracestate(header: string | undefined): string | undefined {
  return formatTracestate(parseTracestate(header));
}

/**
 * Adds or updates one member: it moves to the front (the spec's rule for a participant's own
 * entry), the others keep their order. Throws a TypeError for a key or value the spec does
 * not allow.
 *
 * ```ts
 * withTracestateMember(parseTracestate('congo=a,rojo=b'), 'rojo', 'c'); // rojo=c, congo=a
 * ```
 */
export function withTracestateMember(members: readonly TracestateMember[] | undefined, key: string, value: string): TracestateMember[] {
  if (!KEY.test(key)) throw new TypeError(`'${key}' is not a valid tracestate key (a-z, 0-9, _ - * / @, starting with a letter or digit)`);
  if (!VALUE.test(value)) throw new TypeError(`'${value}' is not a valid tracestate value (printable ASCII but ',' and '=', not ending in a space)`);
  return [{ key, value }, ...(members ?? []).filter((m) => m.key !== key)].slice(0, TRACESTATE_MAX_MEMBERS);
}

/**
 * The `tracestate` of a span, by these rules (OpenTelemetry's `TraceState` interface, so a
 * sampler that writes its own entry moves it to the front and the limits still hold).
 */
export class W3CTraceState implements TraceState {
  readonly #members: readonly TracestateMember[];

  constructor(members: readonly TracestateMember[] = []) {
    this.#members = members;
  }

  set(key: string, value: string): W3CTraceState {
    return new W3CTraceState(withTracestateMember(this.#members, key, value));
  }

  unset(key: string): W3CTraceState {
    return new W3CTraceState(this.#members.filter((m) => m.key !== key));
  }

  get(key: string): string | undefined {
    return this.#members.find((m) => m.key === key)?.value;
  }

  serialize(): string {
    return formatTracestate(this.#members) ?? '';
  }
}
