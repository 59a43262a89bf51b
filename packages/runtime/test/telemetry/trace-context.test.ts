// W3C Trace Context Level 2 rules (https://www.w3.org/TR/trace-context-2/) for what arrives from outside.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  boundTracestate,
  formatTraceparent,
  formatTracestate,
  parseTraceparent,
  parseTracestate,
  traceHeadersOf,
  TRACESTATE_MAX_LENGTH,
  W3CTraceState,
  withTracestateMember,
} from '../../src/telemetry/trace-context.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('traceparent', () => {
  it('reads version 00 with its flags', () => {
    assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-01`), { traceId: TRACE, spanId: SPAN, flags: 1 });
    assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-00`), { traceId: TRACE, spanId: SPAN, flags: 0 });
    assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-03`), { traceId: TRACE, spanId: SPAN, flags: 3 });
    // unknown flag bits are read, and only `sampled` and `random` are written on
    const odd = parseTraceparent(`00-${TRACE}-${SPAN}-ff`);
    assert.equal(odd?.flags, 0xff);
    assert.equal(formatTraceparent(odd!), `00-${TRACE}-${SPAN}-03`);
    assert.equal(formatTraceparent({ traceId: TRACE, spanId: SPAN, flags: 2 }), `00-${TRACE}-${SPAN}-02`);
    assert.equal(formatTraceparent({ traceId: TRACE, spanId: SPAN, flags: 0x05 }), `00-${TRACE}-${SPAN}-01`);
  });

  it('ignores optional white space around the value', () => {
    assert.deepEqual(parseTraceparent(` 00-${TRACE}-${SPAN}-01\t`), { traceId: TRACE, spanId: SPAN, flags: 1 });
  });

  it('refuses a traceparent sent twice, and combines several tracestate fields into one list', () => {
    const one = `00-${TRACE}-${SPAN}-01`;
    assert.deepEqual(traceHeadersOf([one, one], undefined), {});
    assert.deepEqual(traceHeadersOf([one], ['a=1', 'b=2, c=3']), { traceparent: one, tracestate: 'a=1,b=2, c=3' });
    assert.equal(boundTracestate(traceHeadersOf(one, ['a=1', 'b=2, c=3']).tracestate), 'a=1,b=2,c=3');
    assert.deepEqual(traceHeadersOf(undefined, undefined), {});
  });

  it('refuses version 00 with anything after the flags', () => {
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-01-extra`), undefined);
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-010`), undefined);
  });

  it('reads a future version, ignoring the fields it does not know', () => {
    assert.deepEqual(parseTraceparent(`cc-${TRACE}-${SPAN}-01`), { traceId: TRACE, spanId: SPAN, flags: 1 });
    assert.deepEqual(parseTraceparent(`cc-${TRACE}-${SPAN}-01-what-the-future-holds`), { traceId: TRACE, spanId: SPAN, flags: 1 });
    // ...but only after a dash, never shorter than version 00, never prohibitively long, and never version ff
    assert.equal(parseTraceparent(`cc-${TRACE}-${SPAN}-01x`), undefined);
    assert.equal(parseTraceparent(`cc-${TRACE}-${SPAN}-1`), undefined);
    assert.equal(parseTraceparent(`cc-${TRACE}-${SPAN}-01-${'x'.repeat(600)}`), undefined);
    assert.equal(parseTraceparent(`ff-${TRACE}-${SPAN}-01`), undefined);
    // written on as version 00, the fields it does not know dropped
    assert.equal(formatTraceparent(parseTraceparent(`cc-${TRACE}-${SPAN}-03-future`)!), `00-${TRACE}-${SPAN}-03`);
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
    assert.equal(boundTracestate(undefined), undefined);
    assert.equal(boundTracestate(''), undefined);
    assert.equal(boundTracestate(' , \t,'), undefined, 'an empty list sends no header');
  });

  it('reads simple and multi-tenant keys', () => {
    assert.equal(boundTracestate('tenant@vendor=x,z9_-*/=y,1tenant@sys=z'), 'tenant@vendor=x,z9_-*/=y,1tenant@sys=z');
    assert.deepEqual(parseTracestate('fw529a3039@dt=ok'), [{ key: 'fw529a3039@dt', value: 'ok' }]);
    assert.equal(boundTracestate(`${'k'.repeat(256)}=v`), `${'k'.repeat(256)}=v`, 'a key of 256 characters');
  });

  it('keeps the leading spaces of a value and drops the trailing ones', () => {
    assert.deepEqual(parseTracestate('a=  x  ,b=y'), [
      { key: 'a', value: '  x' },
      { key: 'b', value: 'y' },
    ]);
    assert.equal(boundTracestate(`k=${'v'.repeat(256)}`), `k=${'v'.repeat(256)}`, 'a value of 256 characters');
  });

  it('drops the whole header when a member is malformed', () => {
    for (const bad of [
      'Upper=1',
      '_abc=x',
      'a b=x',
      'novalue',
      '=x',
      'a=',
      'a= ',
      'a=x,b',
      'a=has,comma',
      'a=has=eq',
      'a=t\tab',
      'a=caf\u00e9',
      'a=x\u0000',
      `${'k'.repeat(257)}=v`,
      `k=${'v'.repeat(257)}`,
    ]) {
      assert.equal(parseTracestate(bad), undefined, bad);
      assert.equal(boundTracestate(bad), undefined, bad);
    }
  });

  it('drops a key seen again, keeping its left-most entry', () => {
    assert.equal(boundTracestate('a=1,b=2,a=3'), 'a=1,b=2');
    assert.equal(boundTracestate('a=1,a=1'), 'a=1');
  });

  it('keeps at most 32 members, the left-most', () => {
    const members = Array.from({ length: 40 }, (_, i) => `k${i}=v`);
    const kept = boundTracestate(members.join(','))!.split(',');
    assert.deepEqual(kept, members.slice(0, 32));
    // duplicates do not count against the 32
    assert.equal(boundTracestate(['k0=v', ...members].join(','))!.split(',').length, 32);
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

  it('drops only as many long members as it must, the right-most first', () => {
    const long = (k: string) => `${k}=${'x'.repeat(150)}`; // 152 chars
    // 3 x 152 + 2 commas + ',a=1' = 462: fits, nothing dropped
    assert.equal(boundTracestate([long('p'), long('q'), long('r'), 'a=1'].join(',')), [long('p'), long('q'), long('r'), 'a=1'].join(','));
    // 4 x 152 + 3 commas = 611: the right-most long one goes, the first three stay (458 + ',a=1')
    const header = [long('p'), long('q'), 'a=1', long('r'), long('s')].join(',');
    assert.equal(boundTracestate(header), [long('p'), long('q'), 'a=1', long('r')].join(','));
  });

  it("puts the participant's own member first, replacing its earlier entry", () => {
    const members = parseTracestate('congo=a,rojo=b,zed=c');
    assert.equal(formatTracestate(withTracestateMember(members, 'rojo', 'new')), 'rojo=new,congo=a,zed=c');
    assert.equal(formatTracestate(withTracestateMember(members, 'mine@carotene', 'x')), 'mine@carotene=x,congo=a,rojo=b,zed=c');
    assert.equal(formatTracestate(withTracestateMember(undefined, 'a', '1')), 'a=1');
    // a full list loses its right-most member to the new one
    const full = parseTracestate(Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(','));
    const added = withTracestateMember(full, 'new', 'x');
    assert.equal(added.length, 32);
    assert.equal(added[0]?.key, 'new');
    assert.equal(added.at(-1)?.key, 'k30');
    assert.throws(() => withTracestateMember(members, 'Bad', 'x'), TypeError);
    assert.throws(() => withTracestateMember(members, 'ok', 'a,b'), TypeError);
  });

  it('is the TraceState a span carries', () => {
    const state = new W3CTraceState(parseTracestate('congo=a,rojo=b'));
    assert.equal(state.get('rojo'), 'b');
    assert.equal(state.set('rojo', 'c').serialize(), 'rojo=c,congo=a');
    assert.equal(state.unset('congo').serialize(), 'rojo=b');
    assert.equal(state.serialize(), 'congo=a,rojo=b', 'immutable');
    assert.equal(new W3CTraceState().serialize(), '');
  });
});
