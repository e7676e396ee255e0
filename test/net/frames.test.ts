// The RFC 6455 framing peers use once authenticated (src/runtime/modules/net/frames.ts): frames
// round-trip through our writer and reader at every size class and every split of the byte
// stream, interoperate with the `ws` library's own framer and parser both ways, break on each
// protocol violation with the right close code, and take a live ws connection over.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import * as wsModule from 'ws';
import { WebSocket, WebSocketServer } from 'ws';
import { applyMask, FRAME_HEADROOM, FrameError, FrameReader, type FrameSink, frameInPlace, takeOver } from '../../src/runtime/modules/net/frames.js';

interface Seen {
  events: string[];
  binaries: Buffer[];
}

function collector(): { sink: FrameSink; seen: Seen } {
  const seen: Seen = { events: [], binaries: [] };
  const sink: FrameSink = {
    binary: (p) => {
      seen.binaries.push(Buffer.from(p));
      seen.events.push(`binary ${p.length}`);
    },
    ping: (p) => seen.events.push(`ping ${Buffer.from(p).toString()}`),
    pong: (p) => seen.events.push(`pong ${Buffer.from(p).toString()}`),
    close: (code, reason) => seen.events.push(`close ${code} ${reason}`),
  };
  return { sink, seen };
}

/** One Binary frame of `payload` as our writer frames it. */
function ourFrame(payload: Uint8Array, masked: boolean): Buffer {
  const buf = new Uint8Array(FRAME_HEADROOM + payload.length);
  buf.set(payload, FRAME_HEADROOM);
  return Buffer.from(buf.subarray(frameInPlace(buf, FRAME_HEADROOM, masked)));
}

// ws's framer and parser, which ws exports but does not type.
const { Sender, Receiver } = wsModule as unknown as {
  Sender: { frame(data: Buffer, o: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[] };
  Receiver: new (o: { isServer: boolean; maxPayload: number }) => NodeJS.WritableStream & {
    on(e: 'message', f: (d: Buffer, binary: boolean) => void): void;
    on(e: 'error', f: (e: Error) => void): void;
  };
};
function wsFrame(data: Buffer, opcode: number, masked: boolean, fin = true): Buffer {
  return Buffer.concat(Sender.frame(data, { fin, opcode, mask: masked, readOnly: true, rsv1: false }));
}

const SIZES = [0, 1, 125, 126, 127, 1000, 65535, 65536, 200_000];

describe('net frames', () => {
  it('round-trip at every length class, masked and not, in one chunk and split at every byte', () => {
    for (const masked of [false, true]) {
      for (const size of SIZES) {
        const payload = randomBytes(size);
        const wire = ourFrame(payload, masked);
        const expectHead = 2 + (size < 126 ? 0 : size < 65536 ? 2 : 8) + (masked ? 4 : 0);
        assert.equal(wire.length, expectHead + size, `frame length for ${size} bytes`);
        if (masked && size >= 8) assert.notDeepEqual(wire.subarray(expectHead), payload, 'a masked payload is not sent in clear');
        const whole = collector();
        new FrameReader(whole.sink, masked, 1 << 20).push(Buffer.from(wire));
        assert.deepEqual(whole.seen.binaries, [payload]);
        // split points: every byte for small frames, a spread for big ones
        const step = size > 1000 ? 997 : 1;
        for (let cut = 1; cut < wire.length; cut += step) {
          const c = collector();
          const r = new FrameReader(c.sink, masked, 1 << 20);
          r.push(Buffer.from(wire.subarray(0, cut)));
          r.push(Buffer.from(wire.subarray(cut)));
          assert.deepEqual(c.seen.binaries, [payload], `size ${size} cut at ${cut}`);
        }
      }
    }
  });

  it('reads many frames from one chunk, and one frame from many tiny chunks', () => {
    const payloads = [randomBytes(3), randomBytes(300), randomBytes(0), randomBytes(70_000)];
    const wire = Buffer.concat(payloads.map((p) => ourFrame(p, true)));
    const one = collector();
    // (push unmasks in place: each reader gets its own copy of the bytes)
    new FrameReader(one.sink, true, 1 << 20).push(Buffer.from(wire));
    assert.deepEqual(one.seen.binaries, payloads);
    const drip = collector();
    const r = new FrameReader(drip.sink, true, 1 << 20);
    for (let i = 0; i < wire.length; i += 7) r.push(Buffer.from(wire.subarray(i, i + 7)));
    assert.deepEqual(drip.seen.binaries, payloads);
  });

  it('ws parses what we frame, and we parse what ws frames (fragments, ping, pong, close)', async () => {
    for (const size of [5, 300, 70_000]) {
      const payload = randomBytes(size);
      const receiver = new Receiver({ isServer: true, maxPayload: 1 << 20 });
      const got = new Promise<Buffer>((resolve, reject) => {
        receiver.on('message', (d) => resolve(d));
        receiver.on('error', reject);
      });
      receiver.write(ourFrame(payload, true));
      assert.deepEqual(await got, payload, `ws reads our ${size}-byte client frame`);
    }
    const { sink, seen } = collector();
    const r = new FrameReader(sink, true, 1 << 20);
    const a = randomBytes(40);
    const b = randomBytes(70_000);
    r.push(
      Buffer.concat([
        wsFrame(a, 2, true),
        wsFrame(b.subarray(0, 1000), 2, true, false),
        wsFrame(Buffer.from('are you there'), 9, true),
        wsFrame(b.subarray(1000, 5000), 0, true, false),
        wsFrame(b.subarray(5000), 0, true, true),
        wsFrame(Buffer.from('yes'), 10, true),
        wsFrame(Buffer.concat([Buffer.from([0x0f, 0xa0]), Buffer.from('bye')]), 8, true),
      ]),
    );
    assert.deepEqual(seen.binaries, [a, b]);
    assert.deepEqual(seen.events, ['binary 40', 'ping are you there', 'binary 70000', 'pong yes', 'close 4000 bye']);
  });

  it('breaks on each protocol violation with the close code RFC 6455 gives it', () => {
    const cases: Array<[string, Buffer, boolean, number, RegExp]> = [
      ['a text frame', wsFrame(Buffer.from('hi'), 1, true), true, 1003, /text frame/],
      ['an unmasked frame from a client', wsFrame(Buffer.from('hi'), 2, false), true, 1002, /without a mask/],
      ['a masked frame from a server', wsFrame(Buffer.from('hi'), 2, true), false, 1002, /masked frame from a server/],
      ['reserved bits', Buffer.from([0x80 | 0x40 | 2, 0]), false, 1002, /reserved bits/],
      ['an unknown opcode', Buffer.from([0x80 | 3, 0]), false, 1002, /unknown opcode 3/],
      ['an unknown control opcode', Buffer.from([0x80 | 0xb, 0]), false, 1002, /unknown opcode 11/],
      ['a fragmented ping', Buffer.from([0x09, 0]), false, 1002, /fragmented control/],
      ['a control frame over 125 bytes', wsFrame(Buffer.alloc(126), 9, false), false, 1002, /over 125/],
      ['a continuation with nothing to continue', wsFrame(Buffer.from('x'), 0, false), false, 1002, /nothing to continue/],
      ['a new message inside a fragmented one', Buffer.concat([wsFrame(Buffer.from('x'), 2, false, false), wsFrame(Buffer.from('y'), 2, false)]), false, 1002, /inside a fragmented/],
      ['a message over the limit', wsFrame(Buffer.alloc(2000), 2, false), false, 1009, /over 1000 bytes/],
      ['fragments adding up over the limit', Buffer.concat([wsFrame(Buffer.alloc(600), 2, false, false), wsFrame(Buffer.alloc(600), 0, false)]), false, 1009, /over 1000 bytes/],
      ['a close frame with a 1-byte body', wsFrame(Buffer.from([3]), 8, false), false, 1002, /1-byte body/],
    ];
    for (const [what, wire, fromClient, code, message] of cases) {
      const { sink, seen } = collector();
      assert.throws(
        () => new FrameReader(sink, fromClient, 1000).push(wire),
        (e: unknown) => e instanceof FrameError && e.code === code && message.test(e.message),
        what,
      );
      assert.deepEqual(seen.binaries, [], `${what}: nothing delivered`);
    }
    // A length announced but not yet read is not an error: the reader waits for the rest.
    const { sink, seen } = collector();
    new FrameReader(sink, false, 1000).push(Buffer.from([0x82, 126, 0x01]));
    assert.deepEqual(seen.events, []);
  });

  it('masks word-wise at any alignment exactly as byte by byte', () => {
    const mask = Uint8Array.of(0x12, 0x34, 0x56, 0x78);
    const backing = randomBytes(300);
    for (let off = 0; off < 8; off++) {
      for (const len of [0, 1, 3, 4, 5, 17, 64, 255]) {
        const ours = new Uint8Array(backing);
        const expected = Buffer.from(backing);
        for (let i = 0; i < len; i++) expected[off + i] ^= mask[i & 3];
        applyMask(ours, off, off + len, mask);
        assert.deepEqual(Buffer.from(ours), expected, `offset ${off}, length ${len}`);
      }
    }
  });

  it('takes a live ws connection over: frames both ways, ws still pings, and a Close ends it', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => server.once('listening', r));
    const accepted = new Promise<WebSocket>((r) => server.once('connection', r));
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await new Promise((r) => client.once('open', r));
    const serverSide = await accepted;
    const fromServer: Buffer[] = [];
    serverSide.on('message', (d: Buffer) => fromServer.push(d));
    const pongs: string[] = [];
    serverSide.on('pong', (d: Buffer) => pongs.push(d.toString()));
    const serverClosed = new Promise<number>((r) => serverSide.once('close', (code) => r(code)));

    const { sink, seen } = collector();
    let failed: Error | undefined;
    const socket = takeOver(
      client,
      new FrameReader(
        {
          ...sink,
          ping: (p) => {
            sink.ping(p);
            client.pong(p);
          },
          close: (code, reason) => {
            sink.close(code, reason);
            client.close(code);
          },
        },
        false,
        1 << 20,
      ),
      (e) => {
        failed = e;
      },
    );
    assert.ok(socket, 'ws 8 connection taken over');
    // ours out, through the raw socket (masked, as a client must)
    const big = randomBytes(100_000);
    socket.write(ourFrame(Buffer.from('first'), true));
    socket.write(ourFrame(big, true));
    // theirs in, through our reader
    serverSide.send(Buffer.from('hello'));
    serverSide.ping('p1');
    const deadline = Date.now() + 5000;
    while ((fromServer.length < 2 || seen.events.length < 2 || pongs.length < 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(fromServer, [Buffer.from('first'), big]);
    assert.deepEqual(seen.binaries, [Buffer.from('hello')]);
    assert.deepEqual(pongs, ['p1'], 'the ping we read was answered');
    serverSide.close(4001, 'done');
    assert.equal(await serverClosed, 4001, 'our Close answered theirs with its code');
    assert.ok(seen.events.includes('close 4001 done'));
    assert.equal(failed, undefined);
    await new Promise((r) => server.close(r));
  });
});
