// The WebSocket transport (hyperdrive/src/net/ws): every handshake message and every Noise
// transport message is one Binary frame. `ws` carries the upgrade and the handshake; once a peer
// is authenticated, frames.ts parses and writes its data frames.

import { type RawData, WebSocket } from 'ws';
import { FrameError, FrameReader, takeOver } from './frames.js';
import { CONNECT_TIMEOUT_MS, type Link, type LinkEnv, type PeerHandlers, withTimeout } from './link.js';
import { MAX_NOISE_MESSAGE, type TransportState } from './noise.js';
import { type PeerConnection, type PeerFlags, WsPeer } from './peer.js';
import { MAX_WIRE_MESSAGE, QuotaError } from './wire.js';
import { raiseWith } from '../../quotas.js';

export class WsLink implements Link {
  readonly transport = 'ws';
  closed = false;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private waiter?: { resolve: (b: Uint8Array) => void; reject: (e: Error) => void };
  /** Set once established or piped: frames go straight to it. */
  private handler?: (b: Uint8Array) => void;

  /**
   * Every frame of the socket, in order, from one listener attached at once: frames that arrive
   * while a handshake step is still being processed are queued (up to the buffer limit).
   */
  constructor(
    readonly ws: WebSocket,
    /** We opened it (ws client): our frames are masked. */
    readonly client: boolean,
    private readonly env: LinkEnv,
  ) {
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) {
        this.close('text frame');
        return;
      }
      const bytes = toBytes(data);
      if (this.handler) this.handler(bytes);
      else if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w.resolve(bytes);
      } else {
        this.queue.push(bytes);
        this.queued += bytes.length;
        if (this.queued > env.maxBuffered) {
          env.log.warning(`net: a connection queued ${this.queued} bytes before it was set up, over the ${env.maxBuffered}-byte limit (${raiseWith('maxBufferedBytes')} raises it); closed`);
          this.close('too much queued');
        }
      }
    });
    const onClose = () => {
      this.closed = true;
      const w = this.waiter;
      this.waiter = undefined;
      w?.reject(new Error('connection closed during handshake'));
    };
    ws.on('close', onClose);
    ws.on('error', onClose);
  }

  send(msg: Uint8Array): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(msg, { binary: true });
  }

  next(): Promise<Uint8Array> {
    const queued = this.queue.shift();
    if (queued) {
      this.queued -= queued.length;
      return Promise.resolve(queued);
    }
    if (this.closed) return Promise.reject(new Error('connection closed during handshake'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  close(why: string): void {
    this.env.log.debug(`net: closing a connection: ${why}`);
    this.closed = true;
    try {
      this.ws.terminate();
    } catch {
      // already gone
    }
  }

  onClose(cb: () => void): void {
    this.ws.on('close', cb);
  }

  pipe(other: Link): void {
    if (!(other instanceof WsLink)) {
      // hyperdrive/src/net/utils.rs maintain_passthrough: "these foolish combinations must never occur"
      this.close('a passthrough between a WebSocket and a TCP connection');
      other.close('a passthrough between a WebSocket and a TCP connection');
      return;
    }
    const forward = (from: WsLink, to: WsLink) => (data: Uint8Array) => {
      if (to.ws.readyState !== WebSocket.OPEN) return;
      if (to.ws.bufferedAmount > this.env.maxBuffered) {
        this.env.log.warning(`net: a passthrough holds ${to.ws.bufferedAmount} unsent bytes, over the ${this.env.maxBuffered}-byte limit (${raiseWith('maxBufferedBytes')} raises it); closed`);
        from.close('passthrough over its buffer');
        to.close('passthrough over its buffer');
        return;
      }
      to.ws.send(data, { binary: true });
    };
    this.handler = forward(this, other);
    other.handler = forward(other, this);
    for (const f of this.queue.splice(0)) this.handler(f);
    for (const f of other.queue.splice(0)) other.handler(f);
    this.queued = 0;
    other.queued = 0;
    this.ws.on('close', () => other.ws.terminate());
    other.ws.on('close', () => this.ws.terminate());
  }

  establish(name: string, transport: TransportState, flags: PeerFlags, handlers: PeerHandlers): PeerConnection {
    const peer = new WsPeer(name, this.ws, transport, this.client, flags, Math.min(MAX_WIRE_MESSAGE, this.env.maxBuffered));
    const onFrame = (data: Uint8Array) => {
      let messages: Uint8Array[];
      try {
        messages = peer.receive(data);
      } catch (e) {
        if (e instanceof QuotaError) this.env.log.warning(`net: ${name}: ${e.message}; closed`);
        this.close(`${name}: ${(e as Error).message}`);
        return;
      }
      for (const m of messages) if (!handlers.onMessage(peer, m)) return;
    };
    handlers.ready(peer);
    this.handler = onFrame;
    for (const f of this.queue.splice(0)) onFrame(f);
    this.queued = 0;
    this.ws.on('pong', () => {
      peer.lastSeen = Date.now();
    });
    this.useOwnFrames(peer, onFrame);
    return peer;
  }

  /**
   * Move the peer's data frames off ws onto frames.ts. ws's receiver may hold part of a frame
   * right after the handshake; then it keeps the socket until a frame completes, and we try again.
   */
  private useOwnFrames(peer: WsPeer, onFrame: (b: Uint8Array) => void): void {
    const ws = this.ws;
    const reader = new FrameReader(
      {
        binary: (payload) => {
          if (ws.readyState === WebSocket.OPEN) onFrame(payload);
        },
        ping: (payload) => {
          if (ws.readyState === WebSocket.OPEN) ws.pong(payload);
        },
        pong: (payload) => ws.emit('pong', payload),
        close: (code) => {
          // Answer the peer's Close (echoing its code when it is one we may send) and hang up.
          try {
            ws.close(code >= 1000 && code <= 4999 && code !== 1005 && code !== 1006 && code !== 1015 ? code : 1000);
          } catch {
            ws.close(1000);
          }
          peer.socketOf()?.end();
        },
      },
      !peer.client,
      MAX_NOISE_MESSAGE,
    );
    const attempt = (): boolean => {
      if (ws.readyState !== WebSocket.OPEN) return true;
      // A peer that breaks the framing is dropped at once, as one that fails to decrypt is.
      const socket = takeOver(ws, reader, (e) => this.close(`${peer.name}: ${e.message}${e instanceof FrameError ? ` (RFC 6455 close code ${e.code})` : ''}`));
      if (socket) peer.useWire(socket);
      return socket !== undefined;
    };
    if (attempt()) return;
    const retry = () =>
      queueMicrotask(() => {
        if (attempt()) ws.off('message', retry);
      });
    ws.on('message', retry);
  }
}

/** A WebSocket to `host:port`, open; the caller's set of sockets learns of it at once. */
export async function openWs(host: string, port: number, what: string, env: LinkEnv, track: (ws: WebSocket) => void): Promise<WsLink> {
  const ws = new WebSocket(`ws://${host.includes(':') ? `[${host}]` : host}:${port}`, { maxPayload: MAX_NOISE_MESSAGE });
  track(ws);
  const link = new WsLink(ws, true, env);
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', (e) => reject(e));
      }),
      CONNECT_TIMEOUT_MS,
      `connecting to ${what}`,
    );
  } catch (e) {
    ws.removeAllListeners('open');
    ws.on('error', () => {});
    ws.terminate();
    throw e;
  }
  return link;
}

export function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
