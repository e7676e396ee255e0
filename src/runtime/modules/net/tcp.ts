// The TCP transport (`~tcp-port`), framed as hyperdrive/src/net/tcp/utils.rs frames it:
// - before the Noise handshake completes (and a RoutingRequest): each message is a 2-byte
//   big-endian length, then the bytes;
// - after it, a KernelMessage is its serialized length as 4 big-endian bytes *in clear*, then the
//   MessagePack cut into 65,519-byte pieces, each sent as a 2-byte big-endian length and its
//   ciphertext (65,535 bytes at most).

import { connect as tcpConnect, type Socket } from 'node:net';
import { CONNECT_TIMEOUT_MS, type Link, type LinkEnv, type PeerHandlers, withTimeout } from './link.js';
import { MAX_NOISE_MESSAGE, MAX_PLAINTEXT, type TransportState } from './noise.js';
import type { PeerConnection, PeerFlags } from './peer.js';
import { chunks, MAX_WIRE_MESSAGE, overBuffer, QuotaError, WireError } from './wire.js';
import { raiseWith } from '../../quotas.js';

const EMPTY = Buffer.alloc(0);
/** tcp/utils.rs maintain_connection: keep-alive probes after 30 s idle, every 30 s. */
const KEEPALIVE_MS = 30_000;

export class TcpLink implements Link {
  readonly transport = 'tcp';
  closed = false;
  /** What was read and not consumed yet. */
  private buf: Buffer = EMPTY;
  private waiter?: { resolve: (b: Uint8Array) => void; reject: (e: Error) => void };
  /** Set once established or piped: what the socket reads goes straight to it. */
  private onData?: (chunk: Buffer) => void;

  constructor(
    readonly socket: Socket,
    private readonly env: LinkEnv,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.onData) {
        this.onData(chunk);
        return;
      }
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      if (this.buf.length > env.maxBuffered) {
        env.log.warning(`net: a TCP connection queued ${this.buf.length} bytes before it was set up, over the ${env.maxBuffered}-byte limit (${raiseWith('maxBufferedBytes')} raises it); closed`);
        this.close('too much queued');
        return;
      }
      if (this.waiter) {
        const m = this.take();
        if (m) {
          const w = this.waiter;
          this.waiter = undefined;
          w.resolve(m);
        }
      }
    });
    const onClose = () => {
      this.closed = true;
      const w = this.waiter;
      this.waiter = undefined;
      w?.reject(new Error('connection closed during handshake'));
    };
    socket.on('close', onClose);
    socket.on('error', (e) => {
      env.log.debug(`net: TCP connection error: ${e.message}`);
      onClose();
    });
  }

  /** One whole length-prefixed message off the front of what was read, if there is one. */
  private take(): Uint8Array | undefined {
    if (this.buf.length < 2) return undefined;
    const n = this.buf.readUInt16BE(0);
    if (this.buf.length < 2 + n) return undefined;
    const m = this.buf.subarray(2, 2 + n);
    this.buf = this.buf.subarray(2 + n);
    return m;
  }

  send(msg: Uint8Array): void {
    if (msg.length > 0xffff) throw new WireError(`a ${msg.length}-byte handshake message does not fit TCP's 2-byte length`);
    const out = Buffer.allocUnsafe(2 + msg.length);
    out.writeUInt16BE(msg.length, 0);
    out.set(msg, 2);
    if (!this.socket.destroyed) this.socket.write(out);
  }

  next(): Promise<Uint8Array> {
    const m = this.take();
    if (m) return Promise.resolve(m);
    if (this.closed) return Promise.reject(new Error('connection closed during handshake'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  close(why: string): void {
    this.env.log.debug(`net: closing a TCP connection: ${why}`);
    this.closed = true;
    this.socket.destroy();
  }

  onClose(cb: () => void): void {
    this.socket.on('close', cb);
  }

  pipe(other: Link): void {
    if (!(other instanceof TcpLink)) {
      // hyperdrive/src/net/utils.rs maintain_passthrough: "these foolish combinations must never occur"
      this.close('a passthrough between a TCP connection and a WebSocket');
      other.close('a passthrough between a TCP connection and a WebSocket');
      return;
    }
    const forward = (from: TcpLink, to: TcpLink) => (chunk: Buffer) => {
      if (to.socket.destroyed) return;
      if (to.socket.writableLength > this.env.maxBuffered) {
        this.env.log.warning(`net: a passthrough holds ${to.socket.writableLength} unsent bytes, over the ${this.env.maxBuffered}-byte limit (${raiseWith('maxBufferedBytes')} raises it); closed`);
        from.close('passthrough over its buffer');
        to.close('passthrough over its buffer');
        return;
      }
      to.socket.write(chunk);
    };
    this.onData = forward(this, other);
    other.onData = forward(other, this);
    // What each side sent before the pipe existed (the initiator's opening message) goes first, raw.
    for (const [from, to] of [
      [this, other],
      [other, this],
    ] as const) {
      if (from.buf.length > 0) to.socket.write(from.buf);
      from.buf = EMPTY;
    }
    this.socket.on('close', () => other.socket.destroy());
    other.socket.on('close', () => this.socket.destroy());
  }

  establish(name: string, transport: TransportState, flags: PeerFlags, handlers: PeerHandlers): PeerConnection {
    const peer = new TcpPeer(name, this.socket, transport, flags, Math.min(MAX_WIRE_MESSAGE, this.env.maxBuffered));
    this.socket.setKeepAlive(true, KEEPALIVE_MS);
    this.onData = (chunk) => {
      let messages: Uint8Array[];
      try {
        messages = peer.receive(chunk);
      } catch (e) {
        if (e instanceof QuotaError) this.env.log.warning(`net: ${name}: ${e.message}; closed`);
        this.close(`${name}: ${(e as Error).message}`);
        return;
      }
      for (const m of messages) if (!handlers.onMessage(peer, m)) return;
    };
    handlers.ready(peer);
    const rest = this.buf;
    this.buf = EMPTY;
    if (rest.length > 0) this.onData(rest);
    return peer;
  }
}

export class TcpPeer implements PeerConnection {
  readonly transport = 'tcp';
  readonly since = Date.now();
  readonly routingFor: boolean;
  readonly askedToRoute: boolean;
  lastSeen = Date.now();
  private buf: Buffer = EMPTY;
  /** Plaintext bytes the message being read has (-1: its length comes next). */
  private outer = -1;
  private plain = new Uint8Array(0);
  private got = 0;

  constructor(
    readonly name: string,
    private readonly socket: Socket,
    private readonly transportState: TransportState,
    flags: PeerFlags,
    private readonly maxMessage: number,
  ) {
    this.routingFor = flags.routingFor;
    this.askedToRoute = flags.askedToRoute;
  }

  isOpen(): boolean {
    return !this.socket.destroyed && this.socket.writable;
  }

  send(framed: Uint8Array): void {
    const out: Uint8Array[] = [framed.subarray(0, 4)];
    for (const piece of chunks(framed.subarray(4), MAX_PLAINTEXT)) {
      const sealed = this.transportState.encrypt(piece, 2);
      new DataView(sealed.buffer, sealed.byteOffset, 2).setUint16(0, sealed.length - 2, false);
      out.push(sealed);
    }
    this.socket.cork();
    for (const b of out) this.socket.write(b);
    process.nextTick(() => this.socket.uncork());
  }

  bufferedOut(): number {
    return this.socket.writableLength;
  }

  ping(): void {
    // TCP keep-alive (set when established) does it, as on Hyperdrive.
  }

  close(): void {
    this.socket.destroy();
  }

  onClose(cb: () => void): void {
    this.socket.on('close', cb);
  }

  /** What the socket read; returns the messages it completes. Throws on anything malformed. */
  receive(chunk: Buffer): Uint8Array[] {
    this.lastSeen = Date.now();
    let b = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const done: Uint8Array[] = [];
    for (;;) {
      if (this.outer < 0) {
        if (b.length < 4) break;
        const n = b.readUInt32BE(0);
        if (n > MAX_WIRE_MESSAGE) throw new WireError(`peer announced a ${n}-byte message, over the ${MAX_WIRE_MESSAGE}-byte limit`);
        if (n > this.maxMessage) throw overBuffer(n, this.maxMessage);
        b = b.subarray(4);
        this.outer = n;
        this.plain = new Uint8Array(n);
        this.got = 0;
      }
      if (this.got < this.outer) {
        if (b.length < 2) break;
        const n = b.readUInt16BE(0);
        if (n > MAX_NOISE_MESSAGE) throw new WireError(`a ${n}-byte piece is over ${MAX_NOISE_MESSAGE}`);
        if (b.length < 2 + n) break;
        const piece = this.transportState.decrypt(b.subarray(2, 2 + n));
        b = b.subarray(2 + n);
        if (this.got + piece.length > this.outer) throw new WireError(`the pieces of a ${this.outer}-byte message hold more than that`);
        this.plain.set(piece, this.got);
        this.got += piece.length;
      }
      if (this.got === this.outer) {
        done.push(this.plain);
        this.outer = -1;
        this.plain = new Uint8Array(0);
      }
    }
    this.buf = b;
    return done;
  }
}

/** A TCP connection to `host:port`, open; the caller's set of sockets learns of it at once. */
export async function openTcp(host: string, port: number, what: string, env: LinkEnv, track: (s: Socket) => void): Promise<TcpLink> {
  const socket = tcpConnect({ host, port });
  track(socket);
  const link = new TcpLink(socket, env);
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('error', (e) => reject(e));
      }),
      CONNECT_TIMEOUT_MS,
      `connecting to ${what} over TCP`,
    );
  } catch (e) {
    socket.destroy();
    throw e;
  }
  return link;
}
