// W3C Trace Context rules (https://www.w3.org/TR/trace-context/) for what arrives from outside.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundTracestate, formatTraceparent, parseTraceparent, TRACESTATE_MAX_LENGTH } from '../../src/telemetry/trace-context.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('traceparent', () => {
  it('reads version 00 with its flags', () => {
    assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-01`), { traceId: TRACE, spanId: SPAN, flags: 1 });
    assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-00`), { traceId: TRACE, spanId: SPAN, flags: 0 });
    // unknown flag bits are read, and only `sampled` is written on
    const odd = parseTraceparent(`00-${TRACE}-${SPAN}-ff`);
    assert.equal(odd?.flags, 0xff);
    assert.equal(formatTraceparent(odd!), `00-${TRACE}-${SPAN}-01`);
    assert.equal(formatTraceparent({ traceId: TRACE, spanId: SPAN, flags: 2 }), `00-${TRACE}-${SPAN}-00`);
  });

  it('refuses version 00 with anything after the flags', () => {
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-01-extra`), undefined);
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-010`), undefined);
  });

  it('reads a future version, ignoring the fields it does not know', () => {
    assert.deepEqual(parseTraceparent(`cc-${TRACE}-${SPAN}-01`), { traceId: TRACE, spanId: SPAN, flags: 1 });
    assert.deepEqual(parseTraceparent(`cc-${TRACE}-${SPAN}-01-what-the-future-holds`), { traceId: TRACE, spanId: SPAN, flags: 1 });
    // ...but only after a dash, and never version ff
    assert.equal(parseTraceparent(`cc-${TRACE}-${SPAN}-01x`), undefined);
    assert.equal(parseTraceparent(`ff-${TRACE}-${SPAN}-01`), undefined);
  });

  it('refuses all-zero ids', () => {
    assert.equal(parseTraceparent(`00-${'0'.repeat(32)}-${SPAN}-01`), undefined);
    assert.equal(parseTraceparent(`00-${TRACE}-${'0'.repeat(16)}-01`), undefined);
  });

  it('refuses upper-case hex anywhere', () => {
    assert.equal(parseTraceparent(`00-${TRACE.toUpperCase()}-${SPAN}-01`), undefined);
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN.toUpperCase()}-01`), undefined);
    assert.equal(parseTraceparent(`0A-${TRACE}-${SPAN}-01`), undefined);
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-0A`), undefined);
  });

  it('refuses wrong lengths, separators and characters', () => {
    for (const bad of [
      '',
      'garbage',
      `00-${TRACE.slice(1)}-${SPAN}-01`,
      `00-${TRACE}0-${SPAN}-01`,
      `00-${TRACE}-${SPAN.slice(1)}-01`,
      `00_${TRACE}_${SPAN}_01`,
      `00-${TRACE.slice(0, -1)}g-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-1`,
      `0-${TRACE}-${SPAN}-01`,
    ]) {
      assert.equal(parseTraceparent(bad), undefined, bad);
    }
    assert.equal(parseTraceparent(undefined), undefined);
  });
});

describe('tracestate', () => {
  it('passes a valid list on, without optional white space and empty members', () => {
    assert.equal(boundTracestate('congo=t61rcWkgMzE, rojo=00f067aa0ba902b7'), 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
    assert.equal(boundTracestate('a=1,,\tb=2 ,'), 'a=1,b=2');
    assert.equal(boundTracestate('tenant@vendor=x,z9_-*/=y'), 'tenant@vendor=x,z9_-*/=y');
    assert.equal(boundTracestate(undefined), undefined);
    assert.equal(boundTracestate(''), undefined);
  });

  it('discards the whole header when a member is malformed or a key repeats', () => {
    for (const bad of [
      'Upper=1',
      '1abc=x',
      'a=1,a=2',
      'novalue',
      '=x',
      'a=',
      'a=x,b',
      'a=has,comma',
      'a=has=eq',
      'a=t\tab',
      'a=caf\u00e9',
      `${'k'.repeat(257)}=v`,
      `k=${'v'.repeat(257)}`,
    ]) {
      assert.equal(boundTracestate(bad), undefined, bad);
    }
  });

  it('keeps at most 32 members, the left-most', () => {
    const members = Array.from({ length: 40 }, (_, i) => `k${i}=v`);
    const kept = boundTracestate(members.join(','))!.split(',');
    assert.equal(kept.length, 32);
    assert.deepEqual(kept, members.slice(0, 32));
  });

  it('keeps at most 512 characters, dropping members over 128 characters first, then from the right', () => {
    const long = `big=${'x'.repeat(200)}`;
    const small = Array.from({ length: 20 }, (_, i) => `key${String(i).padStart(2, '0')}=${'v'.repeat(20)}`); // 26 chars each
    const header = [small[0], long, ...small.slice(1)].join(',');
    assert.ok(header.length > TRACESTATE_MAX_LENGTH);
    const bounded = boundTracestate(header)!;
    assert.ok(bounded.length <= TRACESTATE_MAX_LENGTH, `${bounded.length}`);
    assert.ok(!bounded.includes('big='), 'the long member goes first');
    // 20 members of 26 characters and 19 commas = 539: the right-most go until it fits
    const kept = bounded.split(',');
    assert.deepEqual(kept, small.slice(0, kept.length));
    assert.equal(kept.length, 19);
    // under the limit, nothing is dropped, however long a member
    assert.equal(boundTracestate(`a=1,${long}`), `a=1,${long}`);
  });
});
