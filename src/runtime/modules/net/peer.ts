// An authenticated connection to another node, whatever carries it (PeerConnection), and the
// WebSocket one (WsPeer): Noise transport messages in Binary frames, written by frames.ts once
// the socket is taken over from ws.

import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { FRAME_HEADROOM, frameInPlace } from './frames.js';
import { MAX_PLAINTEXT, type TransportState } from './noise.js';
import { chunks, Reassembler } from './wire.js';

/** Binary frames, never compressed (ciphertext does not compress), sent at once. */
const SEND_OPTS = { binary: true, compress: false };

export type Transport = 'ws' | 'tcp';

export interface PeerConnection {
  readonly name: string;
  readonly transport: Transport;
  /** The peer asked us to be its router (`proxy_request` in its handshake): we route to it. */
  readonly routingFor: boolean;
  /** We asked the peer to route for us (we opened it, as an indirect node, with proxy_request). */
  readonly askedToRoute: boolean;
  /** When it was established (ms), for "the oldest goes first". */
  readonly since: number;
  lastSeen: number;
  isOpen(): boolean;
  /** Send a KernelMessage already framed (4-byte length + MessagePack, encodeKernelMessageFramed). */
  send(framed: Uint8Array): void;
  /** Bytes handed to the socket that it has not written yet (a peer that does not read). */
  bufferedOut(): number;
  /** Keep-alive (WebSocket ping); a TCP connection relies on the socket's keep-alive. */
  ping(): void;
  close(why?: string): void;
  onClose(cb: () => void): void;
}

export interface PeerFlags {
  routingFor: boolean;
  askedToRoute: boolean;
}

export class WsPeer implements PeerConnection {
  readonly transport = 'ws';
  readonly since = Date.now();
  readonly routingFor: boolean;
  readonly askedToRoute: boolean;
  private readonly reassembler: Reassembler;
  /** A frame went out and the microtask queue has not drained since: more are batched. */
  private busy = false;
  private corked = false;
  /** Set once frames.ts has the connection: frames are written to it directly. */
  private wire?: Socket;
  lastSeen = Date.now();
  constructor(
    readonly name: string,
    readonly ws: WebSocket,
    private readonly transportState: TransportState,
    /** We opened the socket (ws client): our frames are masked, the peer's must not be. */
    readonly client: boolean,
    flags: PeerFlags,
    maxMessage: number,
  ) {
    this.routingFor = flags.routingFor;
    this.askedToRoute = flags.askedToRoute;
    this.reassembler = new Reassembler(maxMessage);
  }

  isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Frames from now on go straight to the socket (frames.ts takeOver). */
  useWire(socket: Socket): void {
    this.wire = socket;
  }

  send(framed: Uint8Array): void {
    this.batch();
    if (framed.length <= MAX_PLAINTEXT) this.sendFrame(framed);
    else for (const chunk of chunks(framed, MAX_PLAINTEXT)) this.sendFrame(chunk);
  }

  bufferedOut(): number {
    return this.wire ? this.wire.writableLength : this.ws.bufferedAmount;
  }

  ping(): void {
    if (this.isOpen()) this.ws.ping();
  }

  close(): void {
    try {
      this.ws.terminate();
    } catch {
      // already gone
    }
  }

  onClose(cb: () => void): void {
    this.ws.on('close', cb);
  }

  private sendFrame(plain: Uint8Array): void {
    if (!this.wire) {
      this.ws.send(this.transportState.encrypt(plain), SEND_OPTS);
      return;
    }
    const sealed = this.transportState.encrypt(plain, FRAME_HEADROOM);
    const start = frameInPlace(sealed, FRAME_HEADROOM, this.client);
    this.wire.write(sealed.subarray(start));
  }

  /**
   * The first frame goes out at once (a lone Request pays nothing); frames that follow it before
   * the microtask queue drains (pipelined Requests whose Responses came in one read) wait in
   * the corked socket and leave together in one writev: they share a syscall.
   */
  private batch(): void {
    if (this.corked) return;
    if (!this.busy) {
      this.busy = true;
      queueMicrotask(() => {
        this.busy = false;
        if (this.corked) {
          this.corked = false;
          this.socketOf()?.uncork();
        }
      });
      return;
    }
    const socket = this.socketOf();
    if (!socket || socket.destroyed) return;
    socket.cork();
    this.corked = true;
  }

  /** The connection's socket: ours once taken over, else the one ws keeps. */
  socketOf(): Socket | undefined {
    // ws keeps its socket here (ws 8); without it, frames simply go out one by one.
    return this.wire ?? (this.ws as unknown as { _socket?: Socket })._socket;
  }

  /** Decrypt one frame; returns the messages it completes. Throws on anything malformed. */
  receive(data: Uint8Array): Uint8Array[] {
    this.lastSeen = Date.now();
    return this.reassembler.push(this.transportState.decrypt(data));
  }
}
