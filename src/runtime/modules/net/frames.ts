// RFC 6455 framing for an established peer connection. The `ws` library upgrades the socket
// and carries the Noise handshake; once a peer is authenticated, its socket's data frames are
// written and parsed here instead: one buffer per frame, the header written into room left in
// front of the ciphertext, payloads handed on as views of what the socket read. That takes
// ws's Writable receiver, its corked two-part writes and its event hops off every message
// (about a fifth of a remote round trip). Control frames still go out through ws (pong, close,
// our pings), so its view of the connection stays right.

import { randomFillSync } from 'node:crypto';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** Room to leave in front of a payload: the longest header (2 + 8 length bytes + 4 mask bytes). */
export const FRAME_HEADROOM = 14;

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** A frame that breaks the protocol: the connection is closed with `code`. */
export class FrameError extends Error {
  override name = 'FrameError';
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

// Masking keys come from the system's CSPRNG (RFC 6455 §5.3), drawn 4 bytes at a time from a pool.
const maskPool = Buffer.alloc(4096);
let maskAt = maskPool.length;
function nextMask(): Uint8Array {
  if (maskAt === maskPool.length) {
    randomFillSync(maskPool);
    maskAt = 0;
  }
  maskAt += 4;
  return maskPool.subarray(maskAt - 4, maskAt);
}

const maskWord = new Uint8Array(4);
const maskWord32 = new Uint32Array(maskWord.buffer);

/** XOR `b[start, end)` with `mask`, a word at a time where the memory is aligned. */
export function applyMask(b: Uint8Array, start: number, end: number, mask: Uint8Array): void {
  let i = start;
  while (i < end && ((b.byteOffset + i) & 3) !== 0) {
    b[i] ^= mask[(i - start) & 3];
    i++;
  }
  const words = (end - i) >>> 2;
  if (words > 0) {
    // The mask as it lines up from byte i on, read in the platform's byte order like the words.
    const phase = (i - start) & 3;
    for (let k = 0; k < 4; k++) maskWord[k] = mask[(phase + k) & 3];
    const m = maskWord32[0];
    const w = new Uint32Array(b.buffer, b.byteOffset + i, words);
    for (let k = 0; k < words; k++) w[k] ^= m;
    i += words * 4;
  }
  for (; i < end; i++) b[i] ^= mask[(i - start) & 3];
}

/**
 * Write a FIN Binary frame's header into the room before `buf[payloadAt, end)` (masking the
 * payload in place when `masked`, as a client must) and return where the frame starts.
 */
export function frameInPlace(buf: Uint8Array, payloadAt: number, masked: boolean): number {
  const len = buf.length - payloadAt;
  const lenBytes = len < 126 ? 0 : len < 0x10000 ? 2 : 8;
  const start = payloadAt - 2 - lenBytes - (masked ? 4 : 0);
  if (start < 0) throw new Error(`frameInPlace: ${payloadAt} bytes of room is too little`);
  buf[start] = 0x80 | OP_BINARY;
  const maskBit = masked ? 0x80 : 0;
  if (lenBytes === 0) buf[start + 1] = maskBit | len;
  else if (lenBytes === 2) {
    buf[start + 1] = maskBit | 126;
    buf[start + 2] = len >>> 8;
    buf[start + 3] = len & 0xff;
  } else {
    buf[start + 1] = maskBit | 127;
    const hi = Math.floor(len / 0x1_0000_0000);
    const v = new DataView(buf.buffer, buf.byteOffset + start + 2, 8);
    v.setUint32(0, hi);
    v.setUint32(4, len >>> 0);
  }
  if (masked) {
    const mask = nextMask();
    buf.set(mask, payloadAt - 4);
    applyMask(buf, payloadAt, buf.length, mask);
  }
  return start;
}

export interface FrameSink {
  /** A complete Binary message (a view into what was read: the receiver may keep or change it). */
  binary(payload: Uint8Array): void;
  ping(payload: Uint8Array): void;
  pong(payload: Uint8Array): void;
  close(code: number, reason: string): void;
}

/**
 * Parses the frames of one direction of a connection from the chunks the socket reads.
 * `fromClient`: frames must be masked (we are the server), else they must not be.
 */
export class FrameReader {
  private parts: Buffer[] = [];
  private buffered = 0;
  /** Bytes the frame at the head of `parts` needs before it can be parsed further. */
  private need = 0;
  private fragments: Uint8Array[] = [];
  private fragmentBytes = 0;
  private done = false;

  constructor(
    private readonly sink: FrameSink,
    private readonly fromClient: boolean,
    private readonly maxPayload: number,
  ) {}

  /**
   * Feed what the socket read. The chunk becomes the reader's: payloads are unmasked in it in
   * place and handed on as views of it. Throws FrameError on a protocol violation (stop then).
   */
  push(chunk: Buffer): void {
    if (this.done) return;
    let data: Buffer;
    if (this.buffered === 0) data = chunk;
    else {
      this.parts.push(chunk);
      this.buffered += chunk.length;
      if (this.buffered < this.need) return;
      data = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.buffered);
      this.parts = [];
      this.buffered = 0;
    }
    let at = 0;
    while (!this.done) {
      const left = data.length - at;
      if (left < 2) {
        this.need = 2;
        break;
      }
      const b0 = data[at];
      const b1 = data[at + 1];
      const masked = (b1 & 0x80) !== 0;
      const len7 = b1 & 0x7f;
      const head = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
      if (left < head) {
        this.need = head;
        break;
      }
      let len = len7;
      if (len7 === 126) len = (data[at + 2] << 8) | data[at + 3];
      else if (len7 === 127) {
        const hi = data.readUInt32BE(at + 2);
        if (hi > 0x1fffff) throw new FrameError('frame length over 2^53', 1009);
        len = hi * 0x1_0000_0000 + data.readUInt32BE(at + 6);
      }
      this.check(b0, masked, len);
      if (left < head + len) {
        this.need = head + len;
        break;
      }
      const payload = data.subarray(at + head, at + head + len);
      if (masked) applyMask(payload, 0, len, data.subarray(at + head - 4, at + head));
      at += head + len;
      this.frame((b0 & 0x80) !== 0, b0 & 0x0f, payload);
    }
    if (at < data.length && !this.done) {
      this.parts = [at === 0 ? data : data.subarray(at)];
      this.buffered = data.length - at;
    }
  }

  private check(b0: number, masked: boolean, len: number): void {
    if (b0 & 0x70) throw new FrameError('reserved bits set (no extension was agreed)', 1002);
    const op = b0 & 0x0f;
    if (masked !== this.fromClient) throw new FrameError(this.fromClient ? 'a client frame without a mask' : 'a masked frame from a server', 1002);
    if (op >= 0x8) {
      if (!(b0 & 0x80)) throw new FrameError('a fragmented control frame', 1002);
      if (len > 125) throw new FrameError('a control frame over 125 bytes', 1002);
      if (op !== OP_CLOSE && op !== OP_PING && op !== OP_PONG) throw new FrameError(`unknown opcode ${op}`, 1002);
      return;
    }
    if (op === OP_TEXT) throw new FrameError('a text frame (peers speak Binary frames only)', 1003);
    if (op !== OP_BINARY && op !== OP_CONTINUATION) throw new FrameError(`unknown opcode ${op}`, 1002);
    if (op === OP_CONTINUATION && this.fragments.length === 0) throw new FrameError('a continuation frame with nothing to continue', 1002);
    if (op === OP_BINARY && this.fragments.length > 0) throw new FrameError('a new message inside a fragmented one', 1002);
    if (this.fragmentBytes + len > this.maxPayload) throw new FrameError(`a message over ${this.maxPayload} bytes`, 1009);
  }

  private frame(fin: boolean, op: number, payload: Uint8Array): void {
    switch (op) {
      case OP_BINARY:
      case OP_CONTINUATION:
        if (fin && this.fragments.length === 0) {
          this.sink.binary(payload);
          return;
        }
        this.fragments.push(payload);
        this.fragmentBytes += payload.length;
        if (fin) {
          const whole = Buffer.concat(this.fragments, this.fragmentBytes);
          this.fragments = [];
          this.fragmentBytes = 0;
          this.sink.binary(whole);
        }
        return;
      case OP_PING:
        this.sink.ping(payload);
        return;
      case OP_PONG:
        this.sink.pong(payload);
        return;
      case OP_CLOSE: {
        this.done = true;
        if (payload.length === 1) throw new FrameError('a close frame with a 1-byte body', 1002);
        const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
        this.sink.close(code, Buffer.from(payload.subarray(2)).toString('utf8'));
        return;
      }
    }
  }
}

/** ws 8 internals the takeover reads; if they change, peers stay on ws's own path. */
interface WsInternals {
  _socket?: Socket;
  _receiver?: { _bufferedBytes?: number; _state?: number; _fragments?: unknown[] };
}

/**
 * Take an open, upgraded `ws` connection's incoming frames away from ws's receiver, once the
 * receiver holds no partial frame. Returns the socket to write frames to, or undefined (ws
 * keeps the connection: a frame was half-read, or this ws version is not the one we know).
 */
export function takeOver(ws: WebSocket, reader: FrameReader, onError: (e: Error) => void): Socket | undefined {
  const { _socket: socket, _receiver: receiver } = ws as unknown as WsInternals;
  if (!socket || !receiver || socket.destroyed) return undefined;
  if (receiver._bufferedBytes !== 0 || receiver._state !== 0 || (receiver._fragments?.length ?? 0) !== 0) return undefined;
  const wsData = socket.listeners('data').filter((f) => f.name === 'socketOnData');
  if (wsData.length !== 1 || socket.listenerCount('data') !== 1) return undefined;
  socket.removeListener('data', wsData[0] as (chunk: Buffer) => void);
  socket.on('data', (chunk: Buffer) => {
    try {
      reader.push(chunk);
    } catch (e) {
      // What a peer sends never takes the node down: the connection goes instead.
      onError(e as Error);
    }
  });
  // ws pauses the socket when its receiver is full; ours never is.
  socket.resume();
  return socket;
}
