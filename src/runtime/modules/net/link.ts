// A connection to another node before it is authenticated (or a router's passthrough, which never
// is): whole handshake messages in and out, whatever the transport. Hyperdrive speaks two
// (hyperdrive/src/net/ws, hyperdrive/src/net/tcp): WebSocket (ws-link.ts) and its own framing over
// plain TCP (tcp.ts). Once the Noise handshake is done, `establish` turns a link into a
// PeerConnection.

import type { Logger } from '../../../core/log.js';
import type { TransportState } from './noise.js';
import type { PeerConnection, PeerFlags, Transport } from './peer.js';

/** Connect and handshake must each finish within this (hyperdrive/src/net/utils.rs TIMEOUT). */
export const CONNECT_TIMEOUT_MS = 5000;

export interface LinkEnv {
  log: Logger;
  /** NetOptions.maxBufferedBytes: what one connection may hold (queued in, or unsent out). */
  maxBuffered: number;
}

export interface Link {
  readonly transport: Transport;
  readonly closed: boolean;
  /** One handshake message (a Binary frame, or a length-prefixed TCP message). */
  send(msg: Uint8Array): void;
  /** The next message, in order; rejects once the link is closed. */
  next(): Promise<Uint8Array>;
  close(why: string): void;
  onClose(cb: () => void): void;
  /**
   * A router's passthrough: from now on everything either side sends goes to the other, raw, and
   * when one closes so does the other. Messages already queued go first.
   */
  pipe(other: Link): void;
  /**
   * The handshake is done: a PeerConnection from now on. `ready` sees it before any message is
   * read (what arrived with the last handshake message may answer at once); `onMessage` gets
   * each KernelMessage's bytes and returns false once it has closed the connection.
   */
  establish(name: string, transport: TransportState, flags: PeerFlags, handlers: PeerHandlers): PeerConnection;
}

export interface PeerHandlers {
  ready(peer: PeerConnection): void;
  onMessage(peer: PeerConnection, m: Uint8Array): boolean;
}

/** Run `p` with a deadline; the error names what took too long. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what} took over ${ms / 1000} s`)), ms);
      t.unref?.();
    }),
  ]).finally(() => clearTimeout(t));
}

/** An address to dial: a node on this machine advertises 127.0.0.1 or even 0.0.0.0. */
export function dialHost(ip: string): string {
  return ip === '127.0.0.1' || ip === 'localhost' || ip === '0.0.0.0' ? '127.0.0.1' : ip;
}
