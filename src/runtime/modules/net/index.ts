// `net:distro:sys`: the node-to-node protocol of the book (Networking Protocol, WebSockets) over
// loopback. The kernel hands us every message whose target is another node; we look the node up
// in the PKI (fed by hns-indexer's HnsUpdate messages), connect on demand with a Noise XX
// handshake, and send KernelMessages as MessagePack in encrypted Binary frames. What comes in
// goes back to the kernel, which checks the target's networking capability.
//
// Indirect nodes: a node whose PKI entry lists routers keeps a connection to each. To reach it,
// a node opens a WebSocket to one of the routers and sends a RoutingRequest in clear; the router
// checks the signature, asks the indirect node (ConnectionRequest over their connection) to open
// a socket of its own with a RoutingRequest back, then pipes the two sockets together, and the
// two ends run the Noise handshake through it: the router sees only ciphertext.

import { ed25519 } from '@noble/curves/ed25519.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo, } from 'node:net';
import { join } from 'node:path';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import { type Address, addressToString, type Capability, type KernelMessage, systemProcess } from '../../../core/types.js';
import { loadOrCreateNetKey, type NetKey } from '../../../core/net-key.js';
import { FrameError, FrameReader, takeOver } from './frames.js';
import { generateKeyPair, type KeyPair, MAX_NOISE_MESSAGE, type TransportState, XXHandshake } from './noise.js';
import {
  decodeHandshakePayload,
  decodeNetAction,
  decodeRoutingRequest,
  encodeHandshakePayload,
  encodeNetAction,
  encodeRoutingRequest,
  type HnsUpdate,
  type Identity,
  identityOut,
  MAX_WIRE_MESSAGE,
  type NetAction,
  pack,
} from './wire.js';
import { decodeKernelMessage, encodeKernelMessageFramed } from './kernel-message.js';
import { createCapabilitySignatures } from './cap-signatures.js';
import { type Inbox, Peer, toBytes } from './peer.js';

export { loadOrCreateNetKey, NetKeyError, readNetPublicKey, type NetKey } from '../../../core/net-key.js';
export { encodeHnsUpdate, encodeNetAction, type HnsUpdate, type Identity } from './wire.js';

const NET = systemProcess('net');

/** Net's root capability: what a process needs to feed the PKI (HnsUpdate), as on Hyperdrive. */
export function netRootCap(our: string): Capability {
  return { issuer: { node: our, process: NET }, params: JSON.stringify({ root: true }) };
}
const PROTOCOL_VERSION = 1;
/** Connect + handshake must finish within this (interop §5.5). */
const CONNECT_TIMEOUT_MS = 5000;
const PING_INTERVAL_MS = 30_000;
const IDLE_TIMEOUT_MS = 30 * 60_000;
const PORT_FILE = '.net-port';

/** Kernel hook (src/runtime/kernel/kernel.ts): return a Request we could not deliver as Offline. */
interface OfflineHook {
  returnOffline(km: KernelMessage, reason: string): void;
}
interface TooLargeHook {
  returnTooLarge(km: KernelMessage, reason: string): void;
}

export interface NetOptions {
  /** WebSocket port; 0 or absent picks a free one (reusing the last one of a persisted home if free). */
  port?: number;
  /** The node password, which encrypts the networking key in home. */
  password?: string;
  /** Interface to listen on; loopback by default. */
  host?: string;
  /** Use this key instead of the one kept in home (`loadOrCreateNetKey`). */
  netKey?: NetKey;
}

export interface NetModule extends NativeProcess {
  /** The WebSocket port, known after start: registration writes it as `~ws-port`. */
  readonly port: number;
  /** Hex of our Ed25519 networking public key: registration writes it as `~net-key`. */
  readonly publicKeyHex: string;
  /** The networking key itself (after start), for registration to sign with or publish. */
  readonly netKey: NetKey;
  /** Names we hold an authenticated connection with. */
  peers(): string[];
  /** Our PKI entry for a name. */
  identity(name: string): Identity | undefined;
  /** Sign bytes with the networking key (the book's `Sign` action prepends the source address). */
  sign(bytes: Uint8Array): Uint8Array;
}

function identityFrom(u: HnsUpdate): Identity {
  const networkingKey = u.publicKey.replace(/^0x/, '').toLowerCase();
  // As Hyperdrive: any IP makes a direct node, else it is reached through its routers.
  if (u.ips.length > 0) return { name: u.name, networkingKey, routing: { direct: { ip: u.ips[0], ports: u.ports } } };
  return { name: u.name, networkingKey, routing: { routers: u.routers } };
}

export function createNetModule(opts: NetOptions = {}): NetModule {
  let kernel: KernelApi;
  let key: NetKey;
  let noiseStatic: KeyPair;
  let signature: Uint8Array;
  let server: WebSocketServer | undefined;
  let port = 0;
  let stopped = false;
  const pki = new Map<string, Identity>();
  const peers = new Map<string, Peer>();
  /** Messages waiting for a connection being set up, by node name. */
  const pending = new Map<string, Array<{ km: KernelMessage; encoded: Uint8Array }>>();
  const sockets = new Set<WebSocket>();
  /** Sockets we opened (we are the ws client), as opposed to ones our server accepted. */
  const opened = new WeakSet<WebSocket>();
  /** As a router: initiators waiting for the indirect node they asked for, by `source->target`. */
  const passthroughs = new Map<string, { ws: WebSocket; inbox: Inbox; timer: NodeJS.Timeout }>();
  let pingTimer: NodeJS.Timeout | undefined;
  const stats = { sent: 0, received: 0, dropped: 0, handshakesFailed: 0 };

  const tooLarge = (km: KernelMessage, bytes: number) => {
    const reason = `message of ${bytes} bytes serialized is over the ${MAX_WIRE_MESSAGE}-byte network limit`;
    kernel.print(0, `net: tried to send too-large message (${reason}), limit is ${(MAX_WIRE_MESSAGE / 1048576).toFixed(2)}mb`);
    (kernel as unknown as Partial<TooLargeHook>).returnTooLarge?.(km, reason);
  };
  const offline = (km: KernelMessage, reason: string) => {
    kernel.log.debug(`net: ${reason}`);
    (kernel as unknown as Partial<OfflineHook>).returnOffline?.(km, reason);
  };

  const capSigs = createCapabilitySignatures({ our: () => kernel.our, key: () => key, log: () => kernel.log });

  function ourPayload(): Uint8Array {
    return encodeHandshakePayload({ protocolVersion: PROTOCOL_VERSION, name: kernel.our, signature, proxyRequest: false });
  }

  /** Check a peer's handshake payload against the PKI: its net key signed its Noise static key. */
  function authenticate(payloadBytes: Uint8Array, remoteStatic: Uint8Array | undefined, expected?: string): string {
    const p = decodeHandshakePayload(payloadBytes);
    if (p.protocolVersion !== PROTOCOL_VERSION) throw new Error(`protocol version ${p.protocolVersion}, we speak ${PROTOCOL_VERSION}`);
    if (expected !== undefined && p.name !== expected) throw new Error(`expected ${expected}, peer says it is ${p.name}`);
    if (p.proxyRequest) throw new Error('routing (proxy_request) is not supported by this node');
    const id = pki.get(p.name);
    if (!id) throw new Error(`${p.name} is not in our PKI`);
    if (!remoteStatic) throw new Error('no static key');
    let ok = false;
    try {
      ok = ed25519.verify(p.signature, remoteStatic, Uint8Array.from(Buffer.from(id.networkingKey, 'hex')));
    } catch {
      ok = false;
    }
    if (!ok) throw new Error(`${p.name}'s signature does not match its networking key`);
    return p.name;
  }

  function closeSocket(ws: WebSocket, why: string): void {
    kernel.log.debug(`net: closing a connection: ${why}`);
    try {
      ws.terminate();
    } catch {
      // already gone
    }
  }

  /** An authenticated connection: frames in are KernelMessages from `name`. */
  function established(name: string, ws: WebSocket, inbox: Inbox, transport: TransportState): Peer {
    const peer = new Peer(name, ws, transport, opened.has(ws));
    peers.set(name, peer);
    const onFrame = (data: Uint8Array) => {
      let messages: Uint8Array[];
      try {
        messages = peer.receive(data);
      } catch (e) {
        closeSocket(ws, `${name}: ${(e as Error).message}`);
        return;
      }
      for (const m of messages) {
        let km: KernelMessage;
        try {
          km = decodeKernelMessage(m, capSigs);
        } catch (e) {
          closeSocket(ws, `${name} sent a message that is not a KernelMessage: ${(e as Error).message}`);
          return;
        }
        if (km.source.node !== name) {
          closeSocket(ws, `${name} sent a message claiming to be from ${km.source.node}`);
          return;
        }
        if (km.target.node !== kernel.our) {
          stats.dropped++;
          continue; // we do not route for others
        }
        // Capabilities claiming to be ours were checked against our signature while decoding
        // (capSigs); the others are their issuers' to check, as on Hyperdrive.
        stats.received++;
        kernel.send(km);
      }
    };
    inbox.handler = onFrame;
    for (const f of inbox.queue.splice(0)) onFrame(f);
    ws.on('pong', () => {
      peer.lastSeen = Date.now();
    });
    ws.on('close', () => {
      if (peers.get(name) === peer) peers.delete(name);
    });
    useOwnFrames(peer, onFrame);
    return peer;
  }

  /**
   * Move the peer's data frames off ws onto frames.ts. ws's receiver may hold part of a frame
   * right after the handshake; then it keeps the socket until a frame completes, and we try again.
   */
  function useOwnFrames(peer: Peer, onFrame: (b: Uint8Array) => void): void {
    const ws = peer.ws;
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
      const socket = takeOver(ws, reader, (e) => closeSocket(ws, `${peer.name}: ${e.message}${e instanceof FrameError ? ` (RFC 6455 close code ${e.code})` : ''}`));
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

  /**
   * Every frame of a socket, in order, from one listener attached at once: frames that arrive
   * while a handshake step is still being processed are queued, never lost.
   */
  function inboxOf(ws: WebSocket): Inbox {
    const inbox: Inbox = { queue: [], closed: false };
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) {
        closeSocket(ws, 'text frame');
        return;
      }
      const bytes = toBytes(data);
      if (inbox.handler) inbox.handler(bytes);
      else if (inbox.waiter) {
        const w = inbox.waiter;
        inbox.waiter = undefined;
        w.resolve(bytes);
      } else inbox.queue.push(bytes);
    });
    const onClose = () => {
      inbox.closed = true;
      const w = inbox.waiter;
      inbox.waiter = undefined;
      w?.reject(new Error('connection closed during handshake'));
    };
    ws.on('close', onClose);
    ws.on('error', onClose);
    return inbox;
  }

  function nextFrame(inbox: Inbox): Promise<Uint8Array> {
    const queued = inbox.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (inbox.closed) return Promise.reject(new Error('connection closed during handshake'));
    return new Promise((resolve, reject) => {
      inbox.waiter = { resolve, reject };
    });
  }

  function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let t: NodeJS.Timeout | undefined;
    return Promise.race([
      p,
      new Promise<T>((_, reject) => {
        t = setTimeout(() => reject(new Error(`${what} took over ${ms / 1000} s`)), ms);
        t.unref?.();
      }),
    ]).finally(() => clearTimeout(t));
  }

  async function onIncoming(ws: WebSocket): Promise<void> {
    const inbox = inboxOf(ws);
    const first = await nextFrame(inbox);
    // The XX opening message is exactly one 32-byte ephemeral key; anything else must be a
    // RoutingRequest for us as a router.
    if (first.length === 32) await respondWith(ws, inbox, first);
    else routeRequest(ws, inbox, first);
  }

  async function respondWith(ws: WebSocket, inbox: Inbox, first: Uint8Array, expected?: string): Promise<Peer> {
    const hs = new XXHandshake({ initiator: false, staticKey: noiseStatic });
    hs.readMessage(first);
    ws.send(hs.writeMessage(ourPayload()), { binary: true });
    const payload = hs.readMessage(await nextFrame(inbox));
    const name = authenticate(payload, hs.remoteStatic, expected);
    return established(name, ws, inbox, hs.finish());
  }

  function routingSignature(target: string, router: string): Uint8Array {
    return ed25519.sign(new TextEncoder().encode(target + router), key.secretKey);
  }

  /** As a router: check a RoutingRequest, then either wait for the target's socket or pipe the two. */
  function routeRequest(ws: WebSocket, inbox: Inbox, first: Uint8Array): void {
    const rr = decodeRoutingRequest(first);
    const id = pki.get(rr.source);
    if (!id) throw new Error(`routing request from ${rr.source}, who is not in our PKI`);
    const ok = (() => {
      try {
        return ed25519.verify(rr.signature, new TextEncoder().encode(rr.target + kernel.our), Uint8Array.from(Buffer.from(id.networkingKey, 'hex')));
      } catch {
        return false;
      }
    })();
    if (!ok) throw new Error(`routing request from ${rr.source} has a bad signature`);
    const reverse = passthroughs.get(`${rr.target}->${rr.source}`);
    if (reverse) {
      // The indirect node answering our ConnectionRequest: join the two sockets.
      passthroughs.delete(`${rr.target}->${rr.source}`);
      clearTimeout(reverse.timer);
      pipe(reverse.ws, reverse.inbox, ws, inbox);
      return;
    }
    const target = peers.get(rr.target);
    if (!target) throw new Error(`${rr.source} asked us to route to ${rr.target}, whom we are not connected to`);
    const timer = setTimeout(() => {
      passthroughs.delete(`${rr.source}->${rr.target}`);
      closeSocket(ws, `${rr.target} did not answer a connection request for ${rr.source}`);
    }, CONNECT_TIMEOUT_MS);
    timer.unref?.();
    passthroughs.set(`${rr.source}->${rr.target}`, { ws, inbox, timer });
    target.send(
      encodeKernelMessageFramed({
        id: kernel.newId(),
        source: { node: kernel.our, process: NET },
        target: { node: rr.target, process: NET },
        message: { tag: 'request', val: { inherit: false, body: encodeNetAction({ kind: 'ConnectionRequest', node: rr.source }), capabilities: [] } },
      }),
    );
  }

  function pipe(a: WebSocket, ai: Inbox, b: WebSocket, bi: Inbox): void {
    const forward = (to: WebSocket) => (data: Uint8Array) => {
      if (to.readyState === WebSocket.OPEN) to.send(data, { binary: true });
    };
    ai.handler = forward(b);
    bi.handler = forward(a);
    for (const f of ai.queue.splice(0)) forward(b)(f);
    for (const f of bi.queue.splice(0)) forward(a)(f);
    a.on('close', () => b.terminate());
    b.on('close', () => a.terminate());
  }

  /** As an indirect node: a router of ours says `from` wants us; open a socket back through it. */
  async function answerConnectionRequest(router: string, from: string): Promise<void> {
    const ws = await openSocket(router);
    try {
      await withTimeout(
        (async () => {
          const inbox = inboxOf(ws);
          ws.send(encodeRoutingRequest({ protocolVersion: PROTOCOL_VERSION, source: kernel.our, signature: routingSignature(from, router), target: from }), {
            binary: true,
          });
          await respondWith(ws, inbox, await nextFrame(inbox), from);
        })(),
        CONNECT_TIMEOUT_MS,
        `answering ${from} through ${router}`,
      );
    } catch (e) {
      ws.terminate();
      throw e;
    }
  }

  /** Keep a connection to each of our routers, if our own PKI entry lists any. */
  function connectToRouters(): void {
    const self = pki.get(kernel.our);
    if (!self || !('routers' in self.routing)) return;
    for (const r of self.routing.routers) {
      if (!peers.has(r) && !pending.has(r) && pki.has(r) && r !== kernel.our) startConnect(r, []);
    }
  }

  /** A WebSocket to a direct node's advertised address, open. */
  async function openSocket(name: string): Promise<WebSocket> {
    const id = pki.get(name);
    if (!id) throw new Error(`${name} is not in the PKI`);
    if (!('direct' in id.routing)) throw new Error(`${name} is not a direct node`);
    const wsPort = id.routing.direct.ports.ws;
    if (!wsPort) throw new Error(`${name} has no WebSocket port`);
    const ip = id.routing.direct.ip;
    const host = ip === '127.0.0.1' || ip === 'localhost' || ip === '0.0.0.0' ? '127.0.0.1' : ip;
    const ws = new WebSocket(`ws://${host.includes(':') ? `[${host}]` : host}:${wsPort}`, { maxPayload: MAX_NOISE_MESSAGE });
    sockets.add(ws);
    opened.add(ws);
    ws.on('close', () => sockets.delete(ws));
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', (e) => reject(e));
        }),
        CONNECT_TIMEOUT_MS,
        `connecting to ${name}`,
      );
    } catch (e) {
      ws.removeAllListeners('open');
      ws.on('error', () => {});
      ws.terminate();
      throw e;
    }
    return ws;
  }

  async function connect(name: string): Promise<Peer> {
    const id = pki.get(name);
    if (!id) throw new Error(`${name} is not in the PKI`);
    if ('direct' in id.routing) return handshakeOver(name, await openSocket(name));
    // Indirect: through its routers, one after another.
    const errors: string[] = [];
    for (const router of id.routing.routers) {
      if (router === kernel.our) continue;
      try {
        const ws = await openSocket(router);
        ws.send(encodeRoutingRequest({ protocolVersion: PROTOCOL_VERSION, source: kernel.our, signature: routingSignature(name, router), target: name }), {
          binary: true,
        });
        return await handshakeOver(name, ws);
      } catch (e) {
        errors.push(`${router}: ${(e as Error).message}`);
      }
    }
    throw new Error(`${name} is an indirect node and no router reached it${errors.length ? ` (${errors.join('; ')})` : ''}`);
  }

  /** Run the handshake as initiator over an open socket, expecting `name` at the other end. */
  async function handshakeOver(name: string, ws: WebSocket): Promise<Peer> {
    try {
      return await withTimeout(
        (async () => {
          const inbox = inboxOf(ws);
          const hs = new XXHandshake({ initiator: true, staticKey: noiseStatic });
          ws.send(hs.writeMessage(), { binary: true });
          const payload = hs.readMessage(await nextFrame(inbox));
          authenticate(payload, hs.remoteStatic, name);
          ws.send(hs.writeMessage(ourPayload()), { binary: true });
          return established(name, ws, inbox, hs.finish());
        })(),
        CONNECT_TIMEOUT_MS,
        `connecting to ${name}`,
      );
    } catch (e) {
      ws.terminate();
      throw e;
    }
  }

  function sendRemote(km: KernelMessage): void {
    const name = km.target.node;
    const size = (km.message.tag === 'request' ? km.message.val.body : km.message.val[0].body).length + (km.lazyLoadBlob?.bytes.length ?? 0);
    // Over the limit, Hyperdrive's net drops the message with a loud line (ws/utils.rs) and the
    // sender times out: never a trap, never an Offline. Serialized is never smaller than this.
    if (size > MAX_WIRE_MESSAGE) {
      tooLarge(km, size);
      return;
    }
    const encoded = encodeKernelMessageFramed(km, capSigs);
    // Bytes go out as MessagePack integer arrays (up to 2 bytes each), so a body near 10 MB
    // may not fit the 10,485,800-byte limit on the wire, which the receiver enforces.
    if (encoded.length - 4 > MAX_WIRE_MESSAGE) {
      tooLarge(km, encoded.length - 4);
      return;
    }
    const peer = peers.get(name);
    if (peer && peer.ws.readyState === WebSocket.OPEN) {
      peer.send(encoded);
      stats.sent++;
      return;
    }
    if (!pki.has(name)) {
      offline(km, `${name} is not in the PKI`);
      return;
    }
    const queue = pending.get(name);
    if (queue) {
      queue.push({ km, encoded });
      return;
    }
    startConnect(name, [{ km, encoded }]);
  }

  /** Connect to `name` in the background; messages queued meanwhile go out, or back as Offline. */
  function startConnect(name: string, queue: Array<{ km: KernelMessage; encoded: Uint8Array }>): void {
    pending.set(name, queue);
    connect(name).then(
      (p) => {
        const q = pending.get(name) ?? [];
        pending.delete(name);
        for (const m of q) {
          p.send(m.encoded);
          stats.sent++;
        }
      },
      (e: Error) => {
        stats.handshakesFailed++;
        const q = pending.get(name) ?? [];
        pending.delete(name);
        kernel.log.debug(`net: cannot reach ${name}: ${e.message}`);
        for (const m of q) offline(m.km, `${name} is offline: ${e.message}`);
      },
    );
  }

  function applyUpdate(u: HnsUpdate): void {
    const id = identityFrom(u);
    const old = pki.get(id.name);
    pki.set(id.name, id);
    // A new key or address invalidates the connection we have.
    if (old && JSON.stringify(old) !== JSON.stringify(id)) {
      const p = peers.get(id.name);
      if (p) {
        peers.delete(id.name);
        closeSocket(p.ws, `${id.name}'s PKI entry changed`);
      }
    }
  }

  function diagnostics(): string {
    const lines = [
      `our name: ${kernel.our}`,
      `our networking key: ${key.publicKeyHex}`,
      `listening: ws://127.0.0.1:${port}`,
      `PKI entries: ${pki.size}`,
      `connected peers: ${peers.size}${peers.size ? ` (${[...peers.keys()].sort().join(', ')})` : ''}`,
      `pending connections: ${pending.size}`,
      `messages sent: ${stats.sent}, received: ${stats.received}, dropped: ${stats.dropped}, failed connects: ${stats.handshakesFailed}`,
    ];
    return lines.join('\n');
  }

  function handleAction(km: KernelMessage, action: NetAction): void {
    const local = km.source.node === kernel.our;
    const expects = km.message.tag === 'request' && km.message.val.expectsResponse !== undefined;
    const reply = (value: unknown, blob?: Uint8Array) => {
      if (expects) kernel.respond(NET, km, pack(value), blob ? { bytes: blob } : undefined);
    };
    if (action.kind === 'ConnectionRequest') {
      // Only a router of ours may ask us to open a routed connection.
      const self = pki.get(kernel.our);
      if (local || !self || !('routers' in self.routing) || !self.routing.routers.includes(km.source.node)) {
        reply({ Rejected: action.node });
        return;
      }
      reply({ Accepted: action.node });
      answerConnectionRequest(km.source.node, action.node).catch((e: Error) =>
        kernel.log.warning(`net: could not answer ${action.node} through ${km.source.node}: ${e.message}`),
      );
      return;
    }
    if (!local) {
      kernel.log.debug(`net: ${km.source.node} sent ${action.kind}, which only our own node may send`);
      return;
    }
    if ((action.kind === 'HnsUpdate' || action.kind === 'HnsBatchUpdate') && !kernel.hasCapability(km.source.process, netRootCap(kernel.our))) {
      // The PKI decides who a name is: only hns-indexer (or whoever holds net's root cap) may feed it.
      kernel.log.warning(`net: ${km.source.process.processName}:${km.source.process.packageName}:${km.source.process.publisherNode} sent ${action.kind} without net's root capability; ignored`);
      return;
    }
    switch (action.kind) {
      case 'HnsUpdate':
        applyUpdate(action.update);
        connectToRouters();
        return;
      case 'HnsBatchUpdate':
        for (const u of action.updates) applyUpdate(u);
        connectToRouters();
        return;
      case 'GetPeers':
        reply({ Peers: [...peers.keys()].flatMap((n) => (pki.get(n) ? [identityOut(pki.get(n) as Identity)] : [])) });
        return;
      case 'GetPeer': {
        const id = pki.get(action.node);
        reply({ Peer: id ? identityOut(id) : null });
        return;
      }
      case 'GetDiagnostics':
        reply({ Diagnostics: diagnostics() });
        return;
      case 'Sign': {
        const blob = km.lazyLoadBlob?.bytes ?? new Uint8Array(0);
        reply('Signed', ed25519.sign(concatAddress(km.source, blob), key.secretKey));
        return;
      }
      case 'Verify': {
        const id = pki.get(action.from.node);
        let ok = false;
        if (id) {
          try {
            const msg = concatAddress(action.from, km.lazyLoadBlob?.bytes ?? new Uint8Array(0));
            ok = ed25519.verify(action.signature, msg, Uint8Array.from(Buffer.from(id.networkingKey, 'hex')));
          } catch {
            ok = false;
          }
        }
        reply({ Verified: ok });
        return;
      }
    }
  }

  function listen(host: string, wanted: number): Promise<WebSocketServer> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ host, port: wanted, maxPayload: MAX_NOISE_MESSAGE });
      wss.once('listening', () => resolve(wss));
      wss.once('error', (e) => reject(e));
    });
  }

  const module: NetModule = {
    id: NET,
    get port() {
      return port;
    },
    get publicKeyHex() {
      return key?.publicKeyHex ?? '';
    },
    get netKey() {
      return key;
    },
    peers: () => [...peers.keys()],
    identity: (name) => pki.get(name),
    sign: (bytes) => ed25519.sign(bytes, key.secretKey),

    async start(k: KernelApi) {
      kernel = k;
      key = opts.netKey ?? loadOrCreateNetKey(k.home, opts.password ?? '');
      // A fresh Noise static key each boot, vouched for by the long-lived networking key.
      noiseStatic = generateKeyPair();
      signature = ed25519.sign(noiseStatic.publicKey, key.secretKey);
      const host = opts.host ?? '127.0.0.1';
      const portFile = join(k.home, PORT_FILE);
      let wanted = opts.port ?? 0;
      if (!wanted && existsSync(portFile)) wanted = Number(readFileSync(portFile, 'utf8').trim()) || 0;
      try {
        server = await listen(host, wanted);
      } catch (e) {
        if (opts.port) throw new Error(`cannot listen for other nodes on port ${opts.port}: ${(e as Error).message}; pick another port`);
        server = await listen(host, 0); // the remembered port is taken: any port will do
      }
      port = (server.address() as AddressInfo).port;
      server.on('error', (e) => kernel.log.error(`net: WebSocket server error: ${e.message}`));
      writeFileSync(portFile, `${port}\n`);
      server.on('connection', (ws) => {
        if (stopped) {
          ws.terminate();
          return;
        }
        sockets.add(ws);
        ws.on('close', () => sockets.delete(ws));
        ws.on('error', () => {});
        withTimeout(onIncoming(ws), CONNECT_TIMEOUT_MS, 'handshake').catch((e: Error) => {
          stats.handshakesFailed++;
          closeSocket(ws, `incoming handshake failed: ${e.message}`);
        });
      });
      pingTimer = setInterval(() => {
        const now = Date.now();
        for (const p of peers.values()) {
          if (now - p.lastSeen > IDLE_TIMEOUT_MS) closeSocket(p.ws, `${p.name} idle`);
          else if (p.ws.readyState === WebSocket.OPEN) p.ws.ping();
        }
      }, PING_INTERVAL_MS);
      pingTimer.unref?.();
    },

    handle(km: KernelMessage) {
      if (km.target.node !== kernel.our) {
        sendRemote(km);
        return;
      }
      if (km.message.tag !== 'request') return; // Responses to net's own requests: none expected
      const body = km.message.val.body;
      const action = decodeNetAction(body);
      if (action) {
        handleAction(km, action);
        return;
      }
      // Not a NetAction: the "hello" protocol (`hi`), printed and acknowledged.
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(body);
      } catch {
        text = '!!message parse error!!';
      }
      kernel.print(0, `\x1b[3;32m${km.source.node}: ${text}\x1b[0m`);
      if (km.message.val.expectsResponse !== undefined) kernel.respond(NET, km, 'ack');
    },

    async stop() {
      stopped = true;
      if (pingTimer) clearInterval(pingTimer);
      for (const ws of sockets) ws.terminate();
      sockets.clear();
      peers.clear();
      if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
    },
  };
  return module;
}

function concatAddress(a: Address, blob: Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(addressToString(a));
  const out = new Uint8Array(prefix.length + blob.length);
  out.set(prefix);
  out.set(blob, prefix.length);
  return out;
}
