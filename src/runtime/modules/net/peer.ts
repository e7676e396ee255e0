// One authenticated connection to another node (Peer), and the queue of frames a socket holds
// before its handshake is done (Inbox).

import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { FRAME_HEADROOM, frameInPlace } from './frames.js';
import { MAX_PLAINTEXT, type TransportState } from './noise.js';
import { chunks, Reassembler } from './wire.js';

/** Binary frames, never compressed (ciphertext does not compress), sent at once. */
const SEND_OPTS = { binary: true, compress: false };

export class Peer {
  private readonly reassembler = new Reassembler();
  /** A frame went out and the microtask queue has not drained since: more are batched. */
  private busy = false;
  private corked = false;
  /** Set once frames.ts has the connection: frames are written to it directly. */
  private wire?: Socket;
  lastSeen = Date.now();
  constructor(
    readonly name: string,
    readonly ws: WebSocket,
    private readonly transport: TransportState,
    /** We opened the socket (ws client): our frames are masked, the peer's must not be. */
    readonly client: boolean,
  ) {}

  /** Frames from now on go straight to the socket (frames.ts takeOver). */
  useWire(socket: Socket): void {
    this.wire = socket;
  }

  /** Send a KernelMessage already framed (length prefix + MessagePack, encodeKernelMessageFramed). */
  send(framed: Uint8Array): void {
    this.batch();
    if (framed.length <= MAX_PLAINTEXT) this.sendFrame(framed);
    else for (const chunk of chunks(framed, MAX_PLAINTEXT)) this.sendFrame(chunk);
  }

  private sendFrame(plain: Uint8Array): void {
    if (!this.wire) {
      this.ws.send(this.transport.encrypt(plain), SEND_OPTS);
      return;
    }
    const sealed = this.transport.encrypt(plain, FRAME_HEADROOM);
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
    return this.reassembler.push(this.transport.decrypt(data));
  }
}

export interface Inbox {
  queue: Uint8Array[];
  closed: boolean;
  waiter?: { resolve: (b: Uint8Array) => void; reject: (e: Error) => void };
  /** Set once the connection is established: frames go straight to it. */
  handler?: (b: Uint8Array) => void;
}

export function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
