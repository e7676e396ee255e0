// `net:distro:sys`: the node-to-node protocol (hyperdrive/src/net). The kernel hands us every
// message whose target is another node; we look the node up in the PKI (fed by hns-indexer's
// HnsUpdate messages), connect on demand with a Noise XX handshake over WebSocket or TCP
// (ws-link.ts, tcp.ts), and send KernelMessages as MessagePack, encrypted. What comes in goes back
// to the kernel, which checks the target's networking capability.
//
// Indirect nodes: a node whose PKI entry lists routers keeps a connection to each, opened with
// `proxy_request: true`. To reach it, a node opens a connection to one of the routers and sends a
// RoutingRequest in clear; the router (router.ts) asks the indirect node (ConnectionRequest over
// their connection) to open a connection of its own with a RoutingRequest back, then pipes the two
// together, and the two ends run the Noise handshake through it: the router sees only ciphertext.

import { ed25519 } from '@noble/curves/ed25519.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { type WebSocket, WebSocketServer } from 'ws';
import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import { requestFdsLimit } from '../fd-manager/limiter.js';
import {
  type Address,
  addressToString,
  type Capability,
  isSafeProcessId,
  type KernelMessage,
  processIdToString,
  systemProcess,
} from '../../../core/types.js';
import { loadOrCreateNetKey, type NetKey } from '../../../core/net-key.js';
import { generateKeyPair, type KeyPair, MAX_NOISE_MESSAGE, XXHandshake } from './noise.js';
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
import { CONNECT_TIMEOUT_MS, dialHost, type Link, type LinkEnv, withTimeout } from './link.js';
import type { PeerConnection, PeerFlags, Transport } from './peer.js';
import { identityFrom, type NetOptions, netLimits, transportFor } from './options.js';
import { Router } from './router.js';
import { openTcp, TcpLink } from './tcp.js';
import { openWs, WsLink } from './ws-link.js';
import { raiseWith } from '../../quotas.js';

export { loadOrCreateNetKey, NetKeyError, readNetPublicKey, type NetKey } from '../../../core/net-key.js';
export { encodeHnsUpdate, encodeNetAction, type HnsUpdate, type Identity } from './wire.js';
export type { NetOptions } from './options.js';

const NET = systemProcess('net');
/** The system PKI feeder: the real Wasm hns-indexer holds only a messaging capability to net. */
const HNS_INDEXER = 'hns-indexer:hns-indexer:sys';

/** Net's root capability: what a process needs to feed the PKI (HnsUpdate), as on Hyperdrive. */
export function netRootCap(our: string): Capability {
  return { issuer: { node: our, process: NET }, params: JSON.stringify({ root: true }) };
}
const PROTOCOL_VERSION = 1;
const PING_INTERVAL_MS = 30_000;
const IDLE_TIMEOUT_MS = 30 * 60_000;
/** hyperdrive/src/net/indirect.rs maintain_routers: an indirect node checks its routers this often. */
const ROUTER_CHECK_MS = 4000;
const PORT_FILE = '.net-port';
const TCP_PORT_FILE = '.net-tcp-port';

/** Kernel hook (src/runtime/kernel/kernel.ts): return a Request we could not deliver as Offline. */
interface OfflineHook {
  returnOffline(km: KernelMessage, reason: string): void;
}
interface TooLargeHook {
  returnTooLarge(km: KernelMessage, reason: string): void;
}

export interface NetModule extends NativeProcess {
  /** The WebSocket port, known after start: registration writes it as `~ws-port`. */
  readonly port: number;
  /** The TCP port (`~tcp-port`), 0 without a TCP listener. */
  readonly tcpPort: number;
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

/** Routers are tried in random order (connect.rs connect_via_router). */
function shuffled<T>(xs: T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export function createNetModule(opts: NetOptions = {}): NetModule {
  const { maxPassthroughs, maxConnectionsPerPeer, maxBufferedBytes } = netLimits(opts);
  let kernel: KernelApi;
  let key: NetKey;
  let noiseStatic: KeyPair;
  let signature: Uint8Array;
  let server: WebSocketServer | undefined;
  let tcpServer: TcpServer | undefined;
  let port = 0;
  let tcpPort = 0;
  let host = '127.0.0.1';
  let stopped = false;
  const pki = new Map<string, Identity>();
  /** Authenticated connections by node name, oldest first; the newest carries what we send. */
  const conns = new Map<string, PeerConnection[]>();
  /** Messages waiting for a connection being set up, by node name. */
  const pending = new Map<string, Array<{ km: KernelMessage; encoded: Uint8Array }>>();
  const sockets = new Set<WebSocket>();
  const tcpSockets = new Set<Socket>();
  let pingTimer: NodeJS.Timeout | undefined;
  let routerTimer: NodeJS.Timeout | undefined;
  const stats = { sent: 0, received: 0, dropped: 0, handshakesFailed: 0 };

  const linkEnv: LinkEnv = {
    get log() {
      return kernel.log;
    },
    maxBuffered: maxBufferedBytes,
  };
  const trackWs = (ws: WebSocket) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
  };
  const trackTcp = (s: Socket) => {
    tcpSockets.add(s);
    s.on('close', () => tcpSockets.delete(s));
  };

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

  const router = new Router({
    our: () => kernel.our,
    log: () => kernel.log,
    identity: (name) => pki.get(name),
    maxPassthroughs,
    routedPeer: (name) => (conns.get(name) ?? []).findLast((c) => c.routingFor && c.isOpen()),
    dial: (id, transport) => openLink(id, transport),
    sendConnectionRequest: (peer, from) =>
      // utils.rs create_passthrough: a Request that expects a Response in 5 s, which never comes
      peer.send(
        encodeKernelMessageFramed({
          id: kernel.newId(),
          source: { node: kernel.our, process: NET },
          target: { node: peer.name, process: NET },
          message: {
            tag: 'request',
            val: { inherit: false, expectsResponse: 5n, body: encodeNetAction({ kind: 'ConnectionRequest', node: from }), capabilities: [] },
          },
        }),
      ),
  });

  /** The connection that carries what we send to `name`. */
  function current(name: string): PeerConnection | undefined {
    const list = conns.get(name);
    return list?.[list.length - 1];
  }

  function payload(proxyRequest: boolean): Uint8Array {
    return encodeHandshakePayload({ protocolVersion: PROTOCOL_VERSION, name: kernel.our, signature, proxyRequest });
  }

  /** Check a peer's handshake payload against the PKI: its net key signed its Noise static key. */
  function authenticate(payloadBytes: Uint8Array, remoteStatic: Uint8Array | undefined, expected?: string): { name: string; proxyRequest: boolean } {
    const p = decodeHandshakePayload(payloadBytes);
    if (p.protocolVersion !== PROTOCOL_VERSION) throw new Error(`protocol version ${p.protocolVersion}, we speak ${PROTOCOL_VERSION}`);
    if (expected !== undefined && p.name !== expected) throw new Error(`expected ${expected}, peer says it is ${p.name}`);
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
    return { name: p.name, proxyRequest: p.proxyRequest };
  }

  function drop(peer: PeerConnection, why: string): false {
    kernel.log.debug(`net: closing a connection: ${why}`);
    peer.close();
    return false;
  }

  /** A KernelMessage from an authenticated peer; false once the connection is closed for it. */
  function onMessage(peer: PeerConnection, m: Uint8Array): boolean {
    let km: KernelMessage;
    try {
      km = decodeKernelMessage(m, capSigs);
    } catch (e) {
      return drop(peer, `${peer.name} sent a message that is not a KernelMessage: ${(e as Error).message}`);
    }
    if (km.source.node !== peer.name) return drop(peer, `${peer.name} sent a message claiming to be from ${km.source.node}`);
    if (!isSafeProcessId(km.source.process)) {
      // ws/utils.rs maintain_connection: check_process_id_hypermap_safe
      kernel.log.warning(`net: got message from non-Hypermap-safe process: ${addressToString(km.source)}`);
      return drop(peer, 'non-Hypermap-safe source');
    }
    if (km.target.node !== kernel.our) {
      stats.dropped++;
      return true; // we do not route messages for others (only connections, as a router)
    }
    // Capabilities claiming to be ours were checked against our signature while decoding
    // (capSigs); the others are their issuers' to check, as on Hyperdrive.
    stats.received++;
    kernel.send(km);
    return true;
  }

  /** An authenticated connection: counted against its node's quota, the newest carrying our sends. */
  function establish(link: Link, name: string, transport: ReturnType<XXHandshake['finish']>, flags: PeerFlags): PeerConnection {
    return link.establish(name, transport, flags, { ready: (peer) => register(name, peer), onMessage });
  }

  function register(name: string, peer: PeerConnection): void {
    const list = conns.get(name) ?? [];
    list.push(peer);
    conns.set(name, list);
    peer.onClose(() => {
      const l = conns.get(name);
      const i = l?.indexOf(peer) ?? -1;
      if (!l || i < 0) return;
      l.splice(i, 1);
      if (l.length === 0) conns.delete(name);
    });
    while (list.length > maxConnectionsPerPeer) {
      const oldest = list.shift() as PeerConnection;
      kernel.log.warning(
        `net: ${name} opened connection ${list.length + 1}, over the limit of ${maxConnectionsPerPeer} per node (${raiseWith('maxConnectionsPerPeer')} raises it); closing its oldest`,
      );
      oldest.close();
    }
  }

  /** Run the XX handshake as responder (their `e` is `first`). */
  async function respondOn(link: Link, first: Uint8Array, expected?: string): Promise<PeerConnection> {
    const hs = new XXHandshake({ initiator: false, staticKey: noiseStatic });
    hs.readMessage(first);
    link.send(hs.writeMessage(payload(false)));
    const them = authenticate(hs.readMessage(await link.next()), hs.remoteStatic, expected);
    // A peer that connected to us asking for routing is one we route for (ws/mod.rs recv_connection);
    // the other half of a passthrough never is (recv_via_router).
    return establish(link, them.name, hs.finish(), { routingFor: expected === undefined && them.proxyRequest, askedToRoute: false });
  }

  /** Run the XX handshake as initiator over an open link, expecting `name` at the other end. */
  async function initiateOn(link: Link, name: string, proxyRequest: boolean): Promise<PeerConnection> {
    try {
      return await withTimeout(
        (async () => {
          const hs = new XXHandshake({ initiator: true, staticKey: noiseStatic });
          link.send(hs.writeMessage());
          authenticate(hs.readMessage(await link.next()), hs.remoteStatic, name);
          link.send(hs.writeMessage(payload(proxyRequest)));
          return establish(link, name, hs.finish(), { routingFor: false, askedToRoute: proxyRequest });
        })(),
        CONNECT_TIMEOUT_MS,
        `connecting to ${name}`,
      );
    } catch (e) {
      link.close(`handshake with ${name} failed: ${(e as Error).message}`);
      throw e;
    }
  }

  async function onIncoming(link: Link): Promise<void> {
    const first = await link.next();
    // The XX opening message is exactly one 32-byte ephemeral key; anything else must be a
    // RoutingRequest for us as a router.
    if (first.length === 32) await respondOn(link, first);
    else await router.route(link, decodeRoutingRequest(first));
  }

  function accept(link: Link): void {
    withTimeout(onIncoming(link), CONNECT_TIMEOUT_MS, 'handshake').catch((e: Error) => {
      stats.handshakesFailed++;
      link.close(`incoming handshake failed: ${e.message}`);
    });
  }

  function routingSignature(target: string, via: string): Uint8Array {
    return ed25519.sign(new TextEncoder().encode(target + via), key.secretKey);
  }

  function routingRequest(target: string, via: string): Uint8Array {
    return encodeRoutingRequest({ protocolVersion: PROTOCOL_VERSION, source: kernel.our, signature: routingSignature(target, via), target });
  }

  /** A raw connection to a direct node's advertised port for `transport`. */
  function openLink(id: Identity, transport: Transport): Promise<Link> {
    if (!('direct' in id.routing)) return Promise.reject(new Error(`${id.name} is not a direct node`));
    const p = id.routing.direct.ports[transport];
    if (!p) return Promise.reject(new Error(`${id.name} has no ${transport === 'ws' ? 'WebSocket' : 'TCP'} port`));
    const h = dialHost(id.routing.direct.ip);
    return transport === 'tcp' ? openTcp(h, p, id.name, linkEnv, trackTcp) : openWs(h, p, id.name, linkEnv, trackWs);
  }

  /** As an indirect node: a router of ours says `from` wants us; open a connection back through it. */
  async function answerConnectionRequest(via: string, from: string): Promise<void> {
    const routerId = pki.get(via);
    const transport = routerId && transportFor(routerId);
    if (!routerId || !transport) throw new Error(`router ${via} is not a direct node we can reach`);
    const link = await openLink(routerId, transport);
    try {
      await withTimeout(
        (async () => {
          link.send(routingRequest(from, via));
          await respondOn(link, await link.next(), from);
        })(),
        CONNECT_TIMEOUT_MS,
        `answering ${from} through ${via}`,
      );
    } catch (e) {
      link.close(`answering ${from} through ${via}: ${(e as Error).message}`);
      throw e;
    }
  }

  /** As an indirect node: keep a connection to each router, opened asking it to route for us. */
  function connectToRouters(): void {
    if (stopped) return;
    const self = pki.get(kernel.our);
    if (!self || !('routers' in self.routing)) return;
    for (const r of self.routing.routers) {
      if (r === kernel.our || !pki.has(r) || pending.has(r)) continue;
      if ((conns.get(r) ?? []).some((c) => c.askedToRoute && c.isOpen())) continue;
      startConnect(r, [], true);
    }
  }

  async function connect(name: string, proxyRequest: boolean): Promise<PeerConnection> {
    const id = pki.get(name);
    if (!id) throw new Error(`${name} is not in the PKI`);
    if ('direct' in id.routing) {
      // connect.rs connect_to_peer: TCP when published, else WebSocket; no second try on the other.
      const transport = transportFor(id);
      if (!transport) throw new Error(`${name} has no WebSocket or TCP port`);
      return initiateOn(await openLink(id, transport), name, proxyRequest);
    }
    // Indirect: through its routers, in random order (connect.rs connect_via_router).
    const errors: string[] = [];
    for (const via of shuffled(id.routing.routers)) {
      if (via === kernel.our) continue;
      const routerId = pki.get(via);
      const transport = routerId && transportFor(routerId);
      if (!routerId || !transport) continue;
      try {
        const link = await openLink(routerId, transport);
        link.send(routingRequest(name, via));
        return await initiateOn(link, name, false);
      } catch (e) {
        errors.push(`${via}: ${(e as Error).message}`);
      }
    }
    throw new Error(`${name} is an indirect node and no router reached it${errors.length ? ` (${errors.join('; ')})` : ''}`);
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
    const peer = current(name);
    if (peer?.isOpen()) {
      const waiting = peer.bufferedOut();
      if (waiting > 0 && waiting + encoded.length > maxBufferedBytes) {
        kernel.log.warning(
          `net: ${name} is not reading: ${waiting} bytes wait to be sent to it, and this message would take that over the ${maxBufferedBytes}-byte limit (${raiseWith('maxBufferedBytes')} raises it); the message comes back Offline`,
        );
        offline(km, `${name} is not reading what we send (over ${maxBufferedBytes} bytes unsent)`);
        return;
      }
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
  function startConnect(name: string, queue: Array<{ km: KernelMessage; encoded: Uint8Array }>, proxyRequest = false): void {
    pending.set(name, queue);
    connect(name, proxyRequest).then(
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
    // A new key or address invalidates the connections we have.
    if (old && JSON.stringify(old) !== JSON.stringify(id)) {
      const list = conns.get(id.name) ?? [];
      conns.delete(id.name);
      for (const p of list) drop(p, `${id.name}'s PKI entry changed`);
    }
  }

  /** Our own Identity, as GetPeer answers it for our name (mod.rs: `ext.our`). */
  function ourIdentity(): Identity {
    const known = pki.get(kernel.our);
    if (known) return known;
    const ports: Record<string, number> = tcpPort ? { tcp: tcpPort, ws: port } : { ws: port };
    return { name: kernel.our, networkingKey: key.publicKeyHex, routing: { direct: { ip: '127.0.0.1', ports } } };
  }

  /** mod.rs GetDiagnostics, line for line, then what only this node tells. */
  function diagnostics(): string {
    const now = Date.now();
    const open = [...conns.entries()].sort(([a], [b]) => a.localeCompare(b));
    const routing = (id: Identity) =>
      'direct' in id.routing
        ? `Direct { ip: "${id.routing.direct.ip}", ports: {${Object.entries(id.routing.direct.ports)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, v]) => `"${k}": ${v}`)
            .join(', ')}} }`
        : `Routers([${id.routing.routers.map((r) => `"${r}"`).join(', ')}])`;
    const self = ourIdentity();
    const lines = [
      `indexing from contract address 0x000000000044C6B8Cb4d8f0F889a3E47664EAeda`,
      `our Identity: Identity { name: "${self.name}", networking_key: "${self.networkingKey}", routing: ${routing(self)} }`,
      `we have connections with ${open.length} peers (${maxConnectionsPerPeer} connections each at most):`,
      ...open.map(([name, list]) => {
        const newest = list[list.length - 1];
        const last = Math.max(...list.map((c) => c.lastSeen));
        return `    ${name},${list.some((c) => c.routingFor) ? ' (routing)' : ''} last message ${Math.round((now - last) / 1000)}s ago${list.length > 1 ? ` (${list.length} connections)` : ''} over ${newest.transport}`;
      }),
      ...router.diagnostics(),
      `we have ${pki.size} entries in the PKI`,
      `listening on ${host}: ws ${port}${tcpPort ? `, tcp ${tcpPort}` : ''}`,
      `pending connections: ${pending.size}`,
      `messages sent: ${stats.sent}, received: ${stats.received}, dropped: ${stats.dropped}, failed connects: ${stats.handshakesFailed}`,
    ];
    return lines.join('\n');
  }

  /** The "hello" protocol (`hi`): printed and acknowledged (utils.rs parse_hello_message). */
  function hello(km: KernelMessage, body: Uint8Array): void {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      text = '!!message parse error!!';
    }
    kernel.print(0, `\x1b[3;32m${km.source.node}: ${text}\x1b[0m`);
    if (km.message.tag === 'request' && km.message.val.expectsResponse !== undefined) kernel.respond(NET, km, 'ack');
  }

  /** mod.rs handle_remote_request: what another node may ask of our net. */
  function handleRemote(km: KernelMessage, action: NetAction, body: Uint8Array): void {
    if (action.kind === 'HnsUpdate' || action.kind === 'HnsBatchUpdate') {
      kernel.log.debug(`net: ${km.source.node} tried to update our PKI, which only this node may do`);
      return;
    }
    if (action.kind !== 'ConnectionRequest') {
      hello(km, body); // any other NetAction from a peer is a hello, as on Hyperdrive
      return;
    }
    // A router of ours has someone for us: open the other half of the passthrough. No Response.
    const self = pki.get(kernel.our);
    const via = km.source.node;
    if (!self || !('routers' in self.routing)) return void kernel.log.debug(`net: ${via} sent a ConnectionRequest, but we are not an indirect node`);
    if (!self.routing.routers.includes(via)) return void kernel.log.debug(`net: ${via} sent a ConnectionRequest, but it is not one of our routers`);
    if (!pki.has(via)) return void kernel.log.debug(`net: router ${via} is not in the PKI`);
    if (!pki.has(action.node)) return void kernel.log.debug(`net: ${action.node}, who wants to reach us through ${via}, is not in the PKI`);
    answerConnectionRequest(via, action.node).catch((e: Error) => kernel.log.warning(`net: could not answer ${action.node} through ${via}: ${e.message}`));
  }

  /**
   * Who may feed the PKI. Hyperdrive takes HnsUpdate from any local process that may message net
   * (mod.rs handle_local_request), so any installed package could redirect any name; we take it
   * only from holders of net's root capability and from the system PKI feeder itself
   * (hns-indexer:hns-indexer:sys, which on Hyperdrive holds only net messaging).
   */
  function mayFeedPki(source: Address): boolean {
    return processIdToString(source.process) === HNS_INDEXER || kernel.hasCapability(source.process, netRootCap(kernel.our));
  }

  function handleLocal(km: KernelMessage, action: NetAction): void {
    const expects = km.message.tag === 'request' && km.message.val.expectsResponse !== undefined;
    const reply = (value: unknown, blob?: Uint8Array) => {
      if (expects) kernel.respond(NET, km, pack(value), blob ? { bytes: blob } : undefined);
    };
    switch (action.kind) {
      case 'ConnectionRequest':
        return; // "we shouldn't get these locally, ignore"
      case 'HnsUpdate':
      case 'HnsBatchUpdate':
        if (!mayFeedPki(km.source)) {
          kernel.log.warning(
            `net: ${processIdToString(km.source.process)} sent ${action.kind} without net's root capability; ignored (only hns-indexer:hns-indexer:sys and holders of {"root":true} from net:distro:sys may change who a name is)`,
          );
          return;
        }
        for (const u of action.kind === 'HnsUpdate' ? [action.update] : action.updates) applyUpdate(u);
        connectToRouters();
        return;
      case 'GetPeers':
        reply({ Peers: [...conns.keys()].flatMap((n) => (pki.get(n) ? [identityOut(pki.get(n) as Identity)] : [])) });
        return;
      case 'GetPeer': {
        const id = action.node === kernel.our ? ourIdentity() : pki.get(action.node);
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
        // utils.rs validate_signature: a node not in the PKI is checked against our own key.
        const id = pki.get(action.from.node);
        const pub = id ? Uint8Array.from(Buffer.from(id.networkingKey, 'hex')) : key.publicKey;
        let ok = false;
        try {
          ok = ed25519.verify(action.signature, concatAddress(action.from, km.lazyLoadBlob?.bytes ?? new Uint8Array(0)), pub);
        } catch {
          ok = false;
        }
        reply({ Verified: ok });
        return;
      }
    }
  }

  function listenWs(wanted: number): Promise<WebSocketServer> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ host, port: wanted, maxPayload: MAX_NOISE_MESSAGE });
      wss.once('listening', () => resolve(wss));
      wss.once('error', (e) => reject(e));
    });
  }

  function listenTcp(wanted: number): Promise<TcpServer> {
    return new Promise((resolve, reject) => {
      const srv = createTcpServer();
      srv.once('error', reject);
      srv.listen({ host, port: wanted }, () => {
        srv.off('error', reject);
        resolve(srv);
      });
    });
  }

  /** Listen on `wanted` (or the port a persisted home used last, or any); returns the port. */
  async function bind<S>(listen: (p: number) => Promise<S>, wanted: number | undefined, file: string, what: string): Promise<S> {
    const portFile = join(kernel.home, file);
    let p = wanted ?? 0;
    if (!p && existsSync(portFile)) p = Number(readFileSync(portFile, 'utf8').trim()) || 0;
    try {
      return await listen(p);
    } catch (e) {
      if (wanted) throw new Error(`cannot listen for other nodes (${what}) on port ${wanted}: ${(e as Error).message}; pick another port`);
      return listen(0); // the remembered port is taken: any port will do
    }
  }

  const module: NetModule = {
    id: NET,
    get port() {
      return port;
    },
    get tcpPort() {
      return tcpPort;
    },
    get publicKeyHex() {
      return key?.publicKeyHex ?? '';
    },
    get netKey() {
      return key;
    },
    peers: () => [...conns.keys()],
    identity: (name) => pki.get(name),
    sign: (bytes) => ed25519.sign(bytes, key.secretKey),

    async start(k: KernelApi) {
      kernel = k;
      // Registered as Hyperdrive's net is (net/mod.rs), so fd-manager splits the budget as there.
      // Hyperdrive then caps its peers at that share (set_max_peers); ours limits connections per
      // peer and bytes per connection instead (quotas.ts), and takes the share without using it.
      requestFdsLimit(k, NET);
      key = opts.netKey ?? loadOrCreateNetKey(k.home, opts.password ?? '');
      // A fresh Noise static key each boot, vouched for by the long-lived networking key.
      noiseStatic = generateKeyPair();
      signature = ed25519.sign(noiseStatic.publicKey, key.secretKey);
      host = opts.host ?? '127.0.0.1';
      server = await bind(listenWs, opts.port, PORT_FILE, 'WebSocket');
      port = (server.address() as AddressInfo).port;
      server.on('error', (e) => kernel.log.error(`net: WebSocket server error: ${e.message}`));
      writeFileSync(join(k.home, PORT_FILE), `${port}\n`);
      server.on('connection', (ws) => {
        if (stopped) {
          ws.terminate();
          return;
        }
        trackWs(ws);
        ws.on('error', () => {});
        accept(new WsLink(ws, false, linkEnv));
      });
      if (opts.tcpPort !== undefined) {
        try {
          tcpServer = await bind(listenTcp, opts.tcpPort, TCP_PORT_FILE, 'TCP');
        } catch (e) {
          await new Promise<void>((resolve) => server?.close(() => resolve()));
          throw e;
        }
        tcpPort = (tcpServer.address() as AddressInfo).port;
        writeFileSync(join(k.home, TCP_PORT_FILE), `${tcpPort}\n`);
        tcpServer.on('error', (e) => kernel.log.error(`net: TCP server error: ${e.message}`));
        tcpServer.on('connection', (socket) => {
          if (stopped) {
            socket.destroy();
            return;
          }
          trackTcp(socket);
          accept(new TcpLink(socket, linkEnv));
        });
      }
      pingTimer = setInterval(() => {
        const now = Date.now();
        for (const list of conns.values())
          for (const p of list) {
            if (now - p.lastSeen > IDLE_TIMEOUT_MS) drop(p, `${p.name} idle`);
            else p.ping();
          }
      }, PING_INTERVAL_MS);
      pingTimer.unref?.();
      routerTimer = setInterval(connectToRouters, ROUTER_CHECK_MS);
      routerTimer.unref?.();
    },

    handle(km: KernelMessage) {
      if (km.target.node !== kernel.our) {
        sendRemote(km);
        return;
      }
      // Responses to net's own Requests (ConnectionRequests, which real nodes never answer): none awaited.
      if (km.message.tag !== 'request') return;
      const body = km.message.val.body;
      const action = decodeNetAction(body);
      const local = km.source.node === kernel.our;
      if (!local) {
        if (action) handleRemote(km, action, body);
        else hello(km, body);
        return;
      }
      // A local body that is not a NetAction is, on Hyperdrive, fd-manager's FdsLimit or nothing: ignored.
      if (action) handleLocal(km, action);
    },

    async stop() {
      stopped = true;
      if (pingTimer) clearInterval(pingTimer);
      if (routerTimer) clearInterval(routerTimer);
      router.stop();
      for (const ws of sockets) ws.terminate();
      sockets.clear();
      for (const s of tcpSockets) s.destroy();
      tcpSockets.clear();
      conns.clear();
      if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
      if (tcpServer) await new Promise<void>((resolve) => tcpServer?.close(() => resolve()));
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

