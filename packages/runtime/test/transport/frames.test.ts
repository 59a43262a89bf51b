// The carotene-rpc/1 frame codec on its own: frames cut anywhere, oversize frames skipped,
// bytes that cannot be frames reported.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { encodeCall, encodeControl, encodeReply, FRAME, FrameReader, FrameWriter, type Frame } from '../../src/transport/frames.ts';

function collect(max: number) {
  const frames: Frame[] = [];
  const oversize: Array<[number, number, number]> = [];
  const malformed: string[] = [];
  const reader = new FrameReader(max, {
    frame: (f) => frames.push(f),
    oversize: (type, id, length) => oversize.push([type, id, length]),
    malformed: (reason) => malformed.push(reason),
  });
  return { reader, frames, oversize, malformed };
}

describe('carotene-rpc/1 frames', () => {
  const call = encodeCall(7, { fn: 'echo', timeout: 4_870, requestId: 'r-1', auth: { sub: 'u', roles: [], claims: {} } }, '{"text":"héllo"}');
  const reply = encodeReply(7, 200, '{"text":"héllo"}');
  const ping = encodeControl(FRAME.PING, 9);

  it('reads frames however the stream is cut, one byte at a time included', () => {
    const stream = Buffer.concat([call, reply, ping]);
    for (const size of [1, 2, 5, 13, stream.length]) {
      const { reader, frames, malformed } = collect(1024);
      for (let at = 0; at < stream.length; at += size) reader.push(stream.subarray(at, at + size));
      assert.deepEqual(malformed, []);
      assert.deepEqual(
        frames.map((f) => [f.type, f.id]),
        [
          [FRAME.CALL, 7],
          [FRAME.REPLY, 7],
          [FRAME.PING, 9],
        ],
        `chunks of ${size}`,
      );
      const head = frames[0]!.payload.readUInt32BE(0);
      assert.deepEqual(JSON.parse(frames[0]!.payload.toString('utf8', 4, 4 + head)).fn, 'echo');
      assert.equal(frames[0]!.payload.toString('utf8', 4 + head), '{"text":"héllo"}');
      assert.equal(frames[1]!.payload.readUInt16BE(0), 200);
      assert.equal(frames[1]!.payload.toString('utf8', 2), '{"text":"héllo"}');
    }
  });

  it('skips a frame over the limit, even one cut in many chunks, and reads the next', () => {
    const big = encodeCall(3, { fn: 'echo', timeout: 1, requestId: 'big' }, `"${'x'.repeat(10_000)}"`);
    const stream = Buffer.concat([big, ping]);
    for (const size of [7, 1000, stream.length]) {
      const { reader, frames, oversize, malformed } = collect(1024);
      for (let at = 0; at < stream.length; at += size) reader.push(stream.subarray(at, at + size));
      assert.deepEqual(oversize, [[FRAME.CALL, 3, big.length - 4]]);
      assert.deepEqual(
        frames.map((f) => [f.type, f.id]),
        [[FRAME.PING, 9]],
      );
      assert.deepEqual(malformed, []);
    }
  });

  it('reports a length too short for a frame, and reads nothing after it', () => {
    const { reader, frames, malformed } = collect(1024);
    reader.push(Buffer.from([0, 0, 0, 2, 1, 1]));
    reader.push(ping);
    assert.equal(malformed.length, 1);
    assert.match(malformed[0]!, /shorter than its type and call id/);
    assert.deepEqual(frames, []);
  });

  it('writes nothing to a peer that ended its side, where a write would fail with EPIPE', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const client = createConnection((server.address() as { port: number }).port, '127.0.0.1');
    const [socket] = await accepted;
    const errors: Error[] = [];
    // no 'error' listener on the socket: an EPIPE would be an uncaught exception
    process.on('uncaughtException', (err) => errors.push(err));
    try {
      client.end();
      await once(socket, 'end');
      new FrameWriter(socket).write(encodeControl(FRAME.GOAWAY, 0));
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(errors, []);
      assert.equal(socket.destroyed && socket.errored !== null, false, String(socket.errored));
    } finally {
      process.removeAllListeners('uncaughtException');
      socket.destroy();
      client.destroy();
      server.close();
    }
  });
});
