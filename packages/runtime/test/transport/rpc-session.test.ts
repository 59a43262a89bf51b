// The server side of carotene-rpc/1 on a real TLS connection: how many calls of one read start
// per turn of the event loop, in what order, what a flood does to reading, and what a
// shutdown does to calls that have not started.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { encodeCall, FRAME, FrameReader, RPC_ALPN, type Frame } from '../../src/transport/frames.ts';
import { CALLS_PER_TURN, MAX_WAITING_CALLS, RpcSession, type IncomingCall } from '../../src/transport/rpc-session.ts';
import { testPki, type TestPki } from '../fixtures/certs.ts';

/** What the server saw: for each call, in order, the turn of the event loop it started in. */
interface Started {
  readonly id: number;
  readonly turn: number;
}

describe('carotene-rpc/1 server session', () => {
  let pki: TestPki;
  let server: Server;
  let port: number;
  let session: RpcSession | undefined;
  let started: Started[] = [];
  /** Calls whose answer waits for `release()`; the others answer at once. */
  let hold: Promise<void> = Promise.resolve();
  // counts turns of the event loop while calls are being started
  let turn = 0;
  /** Times the server stopped reading a connection. */
  let pauses = 0;
  const sockets: TLSSocket[] = [];
  const ticking = () => {
    turn++;
    if (ticking.on) setImmediate(ticking);
  };
  ticking.on = false;

  /** Set: the server goes away as the call with this index (1-based) starts. */
  let goAwayAt = 0;

  const serve = async (call: IncomingCall): Promise<readonly [number, string]> => {
    started.push({ id: Number(call.head.requestId), turn });
    if (started.length === goAwayAt) session!.goAway();
    await hold;
    return [200, call.body.toString('utf8')];
  };

  before(async () => {
    pki = await testPki('fixture', ['echo', 'relay']);
    const { ca, cert, key } = pki.credentials('echo').current();
    server = createServer({ ca, cert, key, requestCert: true, ALPNProtocols: [RPC_ALPN] }, (socket) => {
      const pause = socket.pause.bind(socket);
      socket.pause = () => {
        pauses++;
        return pause();
      };
      session = new RpcSession(socket, { bodyLimit: 1024 * 1024, serve });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    rmSync(pki.dataDir, { recursive: true, force: true });
  });

  /** Opens a connection and collects every frame the server sends back. */
  async function open() {
    const socket: TLSSocket = connect({
      host: '127.0.0.1',
      port,
      ...pki.credentials('relay').current(),
      ALPNProtocols: [RPC_ALPN],
      checkServerIdentity: () => undefined,
    });
    sockets.push(socket);
    const frames: Frame[] = [];
    const reader = new FrameReader(1024 * 1024, { frame: (f) => frames.push(f), oversize: () => assert.fail('oversize'), malformed: (r) => assert.fail(r) });
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    const until = async (check: () => boolean, what: string) => {
      const stop = Date.now() + 5_000;
      while (!check()) {
        assert.ok(Date.now() < stop, `timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    /** `count` calls in one write, call ids 1..count, each body `{"n":id}`. */
    const burst = (count: number) => {
      const all = Array.from({ length: count }, (_, i) => encodeCall(i + 1, { fn: 'echo', timeout: 5_000, requestId: String(i + 1) }, `{"n":${i + 1}}`));
      socket.write(Buffer.concat(all));
    };
    return { socket, frames, until, burst };
  }

  it(`starts at most ${CALLS_PER_TURN} calls of one read per turn, in the order they came, and answers every one`, async () => {
    started = [];
    hold = Promise.resolve();
    const client = await open();
    ticking.on = true;
    ticking();
    client.burst(100);
    await client.until(() => client.frames.length === 100, '100 replies');
    ticking.on = false;

    assert.deepEqual(
      started.map((s) => s.id),
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    const perTurn = new Map<number, number>();
    for (const s of started) perTurn.set(s.turn, (perTurn.get(s.turn) ?? 0) + 1);
    assert.ok(Math.max(...perTurn.values()) <= CALLS_PER_TURN, `calls started per turn: ${[...perTurn.values()].join(', ')}`);
    assert.ok(perTurn.size >= Math.ceil(100 / CALLS_PER_TURN), `100 calls started over ${perTurn.size} turns`);
    for (const f of client.frames) {
      assert.equal(f.type, FRAME.REPLY);
      assert.equal(f.payload.readUInt16BE(0), 200);
      assert.deepEqual(JSON.parse(f.payload.toString('utf8', 2)), { n: f.id });
    }
    client.socket.destroy();
  });

  it(`stops reading while ${MAX_WAITING_CALLS} calls wait to start, and reads on once they have`, async () => {
    started = [];
    hold = Promise.resolve();
    pauses = 0;
    const client = await open();
    // ~290 KB of calls: however the reads fall, they come faster than 16 a turn start
    const flood = 4 * MAX_WAITING_CALLS;
    client.burst(flood);
    await client.until(() => client.frames.length === flood, `${flood} replies`);
    assert.ok(pauses >= 1, 'the server stopped reading while the calls waited');
    assert.equal(session!.socket.isPaused(), false, 'and reads again once they started');
    assert.deepEqual(
      started.map((s) => s.id),
      Array.from({ length: flood }, (_, i) => i + 1),
    );
    client.socket.destroy();
  });

  it('refuses the calls that have not started when it goes away, and answers those that have', async () => {
    started = [];
    hold = Promise.resolve();
    goAwayAt = 1;
    const client = await open();
    const count = 3 * CALLS_PER_TURN;
    client.burst(count);
    const answered = () => client.frames.filter((f) => f.type === FRAME.REPLY || f.type === FRAME.REFUSED);
    await client.until(() => answered().length === count, 'an answer to every call');
    goAwayAt = 0;
    const replied = client.frames.filter((f) => f.type === FRAME.REPLY).map((f) => f.id);
    const refused = client.frames.filter((f) => f.type === FRAME.REFUSED).map((f) => f.id);
    // the first call started before the server went away; the rest, of its turn and waiting, were not run
    assert.deepEqual(
      started.map((s) => s.id),
      [1],
    );
    assert.deepEqual(replied, [1]);
    assert.deepEqual(
      refused.sort((a, b) => a - b),
      Array.from({ length: count - 1 }, (_, i) => i + 2),
    );
    assert.ok(client.frames.some((f) => f.type === FRAME.GOAWAY));
    client.socket.destroy();
  });
  it('going away while flooded refuses every waiting call and reads on', async () => {
    started = [];
    hold = Promise.resolve();
    pauses = 0;
    // the first turn's calls have started; by the second turn's first call the rest wait, reading paused
    goAwayAt = CALLS_PER_TURN + 1;
    const client = await open();
    const flood = 4 * MAX_WAITING_CALLS;
    client.burst(flood);
    const answered = () => client.frames.filter((f) => f.type === FRAME.REPLY || f.type === FRAME.REFUSED).length;
    await client.until(() => answered() === flood, 'an answer to every call');
    goAwayAt = 0;
    assert.ok(pauses >= 1, 'reading was paused when the server went away');
    assert.equal(started.length, CALLS_PER_TURN + 1);
    assert.equal(client.frames.filter((f) => f.type === FRAME.REPLY).length, CALLS_PER_TURN + 1);
    assert.equal(session!.socket.isPaused(), false, 'reading again, so the end of the connection is seen');
    let ended = false;
    session!.socket.once('end', () => (ended = true));
    client.socket.end();
    await client.until(() => ended, 'the server to see the end of the connection');
    client.socket.destroy();
  });
});
