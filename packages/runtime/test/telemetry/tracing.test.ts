// Spans and trace ids inside one process: a handler's server span continues the caller's
// traceparent, its integration calls carry a client span's, its log lines name them, and
// shutdown flushes what the batch processor holds. With no collector, nothing is recorded
// but the trace id still travels.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/service/logger.ts';
import { ServiceRuntime } from '../../src/service/service-runtime.ts';
import { openStore, type StoreDriver } from '../../src/store/driver.ts';
import { SpanKind, startSpan, withSpan } from '../../src/telemetry/spans.ts';
import { parseTraceparent } from '../../src/telemetry/trace-context.ts';
import { startTracing } from '../../src/telemetry/tracing.ts';
import { InProcessTransport, LocalServices } from '../../src/transport/in-process-transport.ts';
import type { CallMeta, Transport } from '../../src/transport/transport.ts';
import { z } from 'zod';
import { contract, handler, implement, rpc } from '../../../carotene/src/index.ts';
import { relay } from '../fixtures/two-services.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

interface Line {
  [key: string]: unknown;
}

/** A logger whose JSON lines land in `lines` (and as written, in `raw`). */
function capturedLogger(service: string) {
  const lines: Line[] = [];
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) raw.push(l), lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  return { log: createLogger(service, 'info', sink), lines, raw };
}

/** A service whose handler writes one line of its own. */
const Talk = contract('talk', { say: rpc({ input: z.object({}), output: z.null() }) });
const talk = implement(Talk, {}).handlers({
  say: handler({}, async (_input, ctx) => {
    ctx.log.info({ mood: 'chatty' }, 'said');
    return null;
  }),
});

/** Answers every call like echo would and remembers what travelled with it. */
function recordingTransport(): Transport & { metas: CallMeta[] } {
  const metas: CallMeta[] = [];
  return {
    metas,
    async call(_service, _fn, input, meta) {
      metas.push(meta);
      return { text: (input as { text: string }).text, caller: meta.caller };
    },
    close: async () => undefined,
  };
}

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}

async function collector(): Promise<{ url: string; spans: ExportedSpan[]; types: string[]; server: Server }> {
  const spans: ExportedSpan[] = [];
  const types: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      types.push(String(req.headers['content-type']));
      const parsed = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: ExportedSpan[] }> }> };
      for (const rs of parsed.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, spans, types, server };
}

describe('tracing in a process', () => {
  let store: StoreDriver;
  before(async () => {
    store = await openStore({ file: ':memory:' });
  });
  after(async () => {
    await store.close();
  });
  const meta = (traceparent?: string): CallMeta => ({
    caller: 'gateway',
    requestId: 'req-1',
    deadline: Date.now() + 5_000,
    traceparent,
    tracestate: 'vendor=abc',
  });

  it('without a collector: records nothing, yet the trace id reaches logs and the next call', async () => {
    const tracing = startTracing({ service: 'relay' });
    try {
      assert.equal(tracing.exporting, false);
      const { log, lines } = capturedLogger('relay');
      const transport = recordingTransport();
      const runtime = new ServiceRuntime({ def: relay, store, transport, config: undefined, log });
      await runtime.invoke('relay', { text: 'hi' }, meta(`00-${TRACE}-${CALLER_SPAN}-01`));
      const out = parseTraceparent(transport.metas[0]!.traceparent)!;
      assert.equal(out.traceId, TRACE, 'the trace continues');
      assert.notEqual(out.spanId, CALLER_SPAN, 'under a span of its own');
      assert.equal(out.flags, 0, 'not sampled: nothing was recorded; not random: the caller did not say so');
      assert.equal(transport.metas[0]!.tracestate, 'vendor=abc', 'tracestate travels on');
      const call = lines.find((l) => l.msg === 'call');
      assert.equal(call?.trace_id, TRACE);
      assert.match(String(call?.span_id), /^[\da-f]{16}$/);
      assert.notEqual(out.spanId, call?.span_id, "the outgoing call is a span of its own, a child of the handler's");
      // outside any span, a line has no ids
      log.info({}, 'idle');
      const idle = lines.find((l) => l.msg === 'idle');
      assert.ok(idle && !('trace_id' in idle) && !('span_id' in idle), JSON.stringify(lines));
    } finally {
      await tracing.shutdown();
    }
  });

  it('in-process calls carry the trace context to the callee, as headers do over the network', async () => {
    const seen: CallMeta[] = [];
    const local = new LocalServices();
    local.register('echo', { invoke: async (_fn, _input, m) => (seen.push(m), { text: 'x', caller: m.caller }) });
    const traceparent = `00-${TRACE}-${CALLER_SPAN}-01`;
    await new InProcessTransport('relay', local).call('echo', 'echo', { text: 'x' }, { ...meta(traceparent), caller: 'someone else' });
    assert.equal(seen[0]!.traceparent, traceparent);
    assert.equal(seen[0]!.tracestate, 'vendor=abc');
    assert.equal(seen[0]!.caller, 'relay');
  });

  for (const exporting of [false, true]) {
    it(`a handler's own log lines name the trace and its span (${exporting ? 'exporting' : 'no collector'})`, async () => {
      const otlp = exporting ? await collector() : undefined;
      const tracing = startTracing({ service: 'talk', endpoint: otlp?.url });
      try {
        const { log, lines, raw } = capturedLogger('talk');
        const runtime = new ServiceRuntime({ def: talk, store, transport: recordingTransport(), config: undefined, log });
        await runtime.invoke('say', {}, meta(`00-${TRACE}-${CALLER_SPAN}-01`));
        const call = lines.find((l) => l.msg === 'call')!;
        const said = lines.find((l) => l.msg === 'said')!;
        assert.equal(said.trace_id, TRACE);
        assert.equal(said.span_id, call.span_id, "the handler's span");
        assert.equal(said.mood, 'chatty');
        const line = raw.find((l) => l.includes('"said"'))!;
        assert.equal(line.split('"trace_id"').length, 2, `the id is written once: ${line}`);
      } finally {
        await tracing.shutdown();
        if (otlp) await new Promise((resolve) => otlp.server.close(resolve));
      }
    });
  }

  it('an invalid incoming traceparent starts a new trace, and its tracestate is dropped', async () => {
    const tracing = startTracing({ service: 'relay' });
    try {
      const transport = recordingTransport();
      const runtime = new ServiceRuntime({ def: relay, store, transport, config: undefined, log: capturedLogger('relay').log });
      await runtime.invoke('relay', { text: 'hi' }, meta(`00-${TRACE.toUpperCase()}-${CALLER_SPAN}-01`));
      const out = parseTraceparent(transport.metas[0]!.traceparent)!;
      assert.ok(out, 'a valid traceparent goes out');
      assert.notEqual(out.traceId, TRACE);
      assert.equal(out.flags & 0x02, 0x02, 'the new trace id is random, and says so');
      assert.equal(transport.metas[0]!.tracestate, undefined);
    } finally {
      await tracing.shutdown();
    }
  });

  it('with a collector and a sample ratio of 0: new traces are not recorded, a sampled caller is followed', async () => {
    const otlp = await collector();
    const tracing = startTracing({ service: 'relay', endpoint: otlp.url, sampleRatio: 0 });
    try {
      const transport = recordingTransport();
      const runtime = new ServiceRuntime({ def: relay, store, transport, config: undefined, log: capturedLogger('relay').log });
      await runtime.invoke('relay', { text: 'new' }, meta());
      assert.equal(parseTraceparent(transport.metas[0]!.traceparent)?.flags, 0x02, 'a new trace is not sampled; its id is random (Level 2)');
      await runtime.invoke('relay', { text: 'followed' }, meta(`00-${TRACE}-${CALLER_SPAN}-01`));
      assert.equal(parseTraceparent(transport.metas[1]!.traceparent)?.flags, 1, "the caller's sampled flag wins, and its random flag (unset) is kept");
      await tracing.shutdown();
      assert.deepEqual(new Set(otlp.spans.map((s) => s.traceId)), new Set([TRACE]), 'only the followed trace was exported');
    } finally {
      await tracing.shutdown();
      await new Promise((resolve) => otlp.server.close(resolve));
    }
  });

  it('with a collector: server and client spans linked, exported as OTLP JSON, flushed on shutdown', async () => {
    const otlp = await collector();
    const tracing = startTracing({ service: 'relay', endpoint: otlp.url });
    try {
      assert.equal(tracing.exporting, true);
      const { log, lines } = capturedLogger('relay');
      const transport = recordingTransport();
      const runtime = new ServiceRuntime({ def: relay, store, transport, config: undefined, log });
      await runtime.invoke('relay', { text: 'hi' }, meta(`00-${TRACE}-${CALLER_SPAN}-01`));
      // a span of our own, with logs inside it
      const mine = startSpan('work', SpanKind.INTERNAL, {}, {});
      withSpan(mine, () => log.info({}, 'inside'));
      mine.end();
      assert.equal(otlp.spans.length, 0, 'batched, not yet sent');
      await tracing.shutdown();
      const server = otlp.spans.find((s) => s.name === 'relay.relay');
      const client = otlp.spans.find((s) => s.name === 'echo.echo');
      assert.ok(server && client, `exported: ${otlp.spans.map((s) => s.name).join(', ')}`);
      assert.equal(server.kind, 2);
      assert.equal(server.traceId, TRACE);
      assert.equal(server.parentSpanId, CALLER_SPAN);
      assert.equal(client.kind, 3);
      assert.equal(client.parentSpanId, server.spanId);
      // the callee receives the client span's context, sampled
      assert.equal(transport.metas[0]!.traceparent, `00-${TRACE}-${client.spanId}-01`);
      assert.equal(lines.find((l) => l.msg === 'call')?.span_id, server.spanId);
      const inside = lines.find((l) => l.msg === 'inside');
      const work = otlp.spans.find((s) => s.name === 'work');
      assert.equal(inside?.span_id, work?.spanId);
      assert.ok(
        otlp.types.every((t) => t === 'application/json'),
        otlp.types.join(),
      );
    } finally {
      await tracing.shutdown();
      await new Promise((resolve) => otlp.server.close(resolve));
    }
  });
});
