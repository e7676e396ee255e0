// Attack: one malformed WebSocket frame (oversized, invalid UTF-8, RSV bits, an unknown opcode)
// on a socket nobody has logged in on: at `/` (the WebSocket API registration), on a WebSocket a
// process bound, and on the port for other nodes. Before the fix, the first one ended the node
// (an 'error' event with no listener). Each must close only that socket, with RFC 6455's code.

import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { assertIntact, bootTarget, type Target } from './helpers.js';

const MASK = Buffer.from([0x12, 0x34, 0x56, 0x78]);

/** One masked client frame: `first` is FIN|RSV|opcode. */
function frame(first: number, payload: Buffer): Buffer {
  const len = payload.length;
  let head: Buffer;
  if (len < 126) head = Buffer.from([first, 0x80 | len]);
  else if (len < 65536) {
    head = Buffer.alloc(4);
    head[0] = first;
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = first;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] ^= MASK[i % 4];
  return Buffer.concat([head, MASK, masked]);
}

const ATTACKS: Array<{ name: string; frame: () => Buffer; code: number }> = [
  // The node's WebSocket payload limit is the 10 MB message limit: 1009 Message Too Big.
  { name: 'an 11 MB binary frame', frame: () => frame(0x82, Buffer.alloc(11_000_000, 1)), code: 1009 },
  { name: 'a text frame that is not UTF-8', frame: () => frame(0x81, Buffer.from([0xff, 0xfe, 0xfd])), code: 1007 },
  { name: 'a frame with RSV1 set (no extension agreed)', frame: () => frame(0xc1, Buffer.from('hi')), code: 1002 },
  { name: 'opcode 3 (reserved)', frame: () => frame(0x83, Buffer.from('x')), code: 1002 },
];

/** Open a raw WebSocket at `path`; resolves once the 101 arrived, with the bytes after it. */
function rawWebSocket(port: number, path: string): Promise<{ socket: Socket; frames: () => Buffer; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => {});
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (upgraded) return;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`no upgrade: ${head}`));
      upgraded = true;
      buf = buf.subarray(end + 4);
      resolve({ socket, frames: () => buf, closed });
    });
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

/** The close code of the first server frame, which must be a Close frame. */
function closeCode(bytes: Buffer): number {
  assert.ok(bytes.length >= 4, `the node sent no close frame (got ${bytes.length} bytes)`);
  assert.equal(bytes[0] & 0x0f, 0x8, 'the first frame back is a Close frame');
  return bytes.readUInt16BE(2);
}

describe('attack: a malformed WebSocket frame', { timeout: 600_000 }, () => {
  let t: Target;

  before(async () => {
    t = await bootTarget();
  });
  after(async () => {
    await t?.stop();
  });

  for (const attack of ATTACKS) {
    it(`${attack.name} at / closes that socket with ${attack.code}, and the node goes on`, async () => {
      const ws = await rawWebSocket(t.node.port, '/');
      ws.socket.write(attack.frame());
      await ws.closed;
      assert.equal(closeCode(ws.frames()), attack.code);
      await assertIntact(t);
    });
  }

  it('the same frames on a WebSocket a process bound close only that channel', async () => {
    const driver = t.c.driver('driver', 'victim');
    const bound = await driver.json('http-server:distro:sys', { WebSocketBind: { path: '/ws', authenticated: false, extension: false } });
    assert.deepEqual(bound, { Ok: null });
    for (const attack of ATTACKS) {
      const ws = await rawWebSocket(t.node.port, '/driver:victim:kit-tests.os/ws');
      ws.socket.write(attack.frame());
      await ws.closed;
      assert.equal(closeCode(ws.frames()), attack.code, attack.name);
    }
    await assertIntact(t);
  });

  it('the same frames on the port for other nodes close only that connection', async () => {
    for (const attack of ATTACKS) {
      const ws = await rawWebSocket(t.node.net.port, '/');
      ws.socket.write(attack.frame());
      await ws.closed;
    }
    await assertIntact(t);
    assert.deepEqual(t.errors, [], 'no ERROR lines');
  });
});
