// Nodes booted in-process with bootNode, their PKI fed the way hns-indexer feeds it: HnsUpdate
// Requests (MessagePack) to net:distro:sys.

import { ed25519 } from '@noble/curves/ed25519.js';
import { mkdtempSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { WebSocket } from 'ws';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { createLogger } from '../../src/core/log.js';
import { encodeHnsUpdate, netRootCap } from '../../src/runtime/modules/net/index.js';
import { type BootOptions, bootNode, type RunningNode } from '../../src/runtime/node.js';
import { type Capability, type KernelMessage, messagingCap, NETWORK_PARAMS, type ProcessId, systemProcess, utf8 } from '../../src/core/types.js';
import { decodeKernelMessage, encodeKernelMessage } from '../../src/runtime/modules/net/kernel-message.js';
import { generateKeyPair, MAX_PLAINTEXT, XXHandshake } from '../../src/runtime/modules/net/noise.js';
import { encodeHandshakePayload, frame, Reassembler } from '../../src/runtime/modules/net/wire.js';

/** A native test process with the networking capability and messaging caps to net and kernel. */
export const TESTER: ProcessId = { processName: 'tester', packageName: 'net-test', publisherNode: 'test.os' };

export interface TestNode {
  node: RunningNode;
  kernel: Kernel;
  prints: string[];
  /** The node's log lines at info and above (the quota messages land here). */
  logs: string[];
  name: string;
  home: string;
  /** With `terminal`: type a line into the node's terminal. */
  type?: (line: string) => void;
}

export const ROOT = mkdtempSync(join(tmpdir(), 'kit-net-'));

export async function bootTestNode(
  name: string,
  opts: { persist?: boolean; home?: string; terminal?: boolean; net?: BootOptions['net']; quotas?: BootOptions['quotas'] } = {},
): Promise<TestNode> {
  const home = opts.home ?? join(ROOT, name);
  const prints: string[] = [];
  const logs: string[] = [];
  const input = new PassThrough();
  const output = new PassThrough();
  output.on('data', (d: Buffer) => prints.push(...d.toString().split('\n')));
  const node = await bootNode({
    home,
    port: 0,
    name,
    persist: opts.persist,
    terminal: opts.terminal ? { input, output } : null,
    log: createLogger({ target: name, level: 'info', terminal: (_lvl, t) => logs.push(t), file: null }),
    net: opts.net,
    quotas: opts.quotas,
  });
  const kernel = node.kernel as Kernel;
  // Without a terminal, capture what would be printed on it.
  if (!opts.terminal) kernel.setPrinter((_v, t) => prints.push(t));
  const our = (p: ProcessId) => ({ node: name, process: p });
  const caps: Capability[] = [
    messagingCap(our(systemProcess('net'))),
    messagingCap(our(systemProcess('kernel'))),
    { issuer: our(systemProcess('kernel')), params: NETWORK_PARAMS },
    // the tests feed the PKI themselves, as hns-indexer would
    netRootCap(name),
  ];
  // public: whatever it asks may answer it (every Response is capability-checked)
  await kernel.addNative({ id: TESTER, isPublic: true, handle: () => {} }, caps);
  return { node, kernel, prints, logs, name, home, type: opts.terminal ? (line) => input.write(`${line}\n`) : undefined };
}

/** Tell every node in `to` about every node in `about`, as hns-indexer would. */
export function feedPki(to: TestNode[], about: TestNode[]): void {
  for (const t of to)
    for (const a of about)
      t.kernel.tell(
        TESTER,
        'our@net:distro:sys',
        encodeHnsUpdate({ name: a.name, publicKey: a.node.net.publicKeyHex, ips: ['127.0.0.1'], ports: { ws: a.node.net.port }, routers: [] }),
      );
}

export async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The frames a test's own WebSocket peer receives, in order: `next()` resolves with the next one. */
export function frameQueue(ws: WebSocket): () => Promise<Uint8Array> {
  const frames: Uint8Array[] = [];
  const waiters: Array<(b: Uint8Array) => void> = [];
  ws.on('message', (d: Buffer) => {
    const w = waiters.shift();
    if (w) w(new Uint8Array(d));
    else frames.push(new Uint8Array(d));
  });
  return () => new Promise<Uint8Array>((r) => (frames.length ? r(frames.shift() as Uint8Array) : waiters.push(r)));
}

/** A node of the test's own making that speaks the wire by hand over a WebSocket. */
export interface RawPeer {
  name: string;
  secretKey: Uint8Array;
  ws: WebSocket;
  closed: Promise<void>;
  /** Send a KernelMessage (framed, encrypted, one frame per 65,519 bytes). */
  send(km: KernelMessage): void;
  /** A Request to the other node's net, as `hi` sends it. */
  hi(to: string, text: string, id?: bigint): void;
  /** The KernelMessages the other node sent us, in order. */
  next(): Promise<KernelMessage>;
}

/** Put `name` with a fresh key in `to`'s PKI (as hns-indexer would). */
export function rawIdentity(to: TestNode, name: string, routing: { ports?: Record<string, number>; routers?: string[] } = {}): Uint8Array {
  const secretKey = ed25519.utils.randomSecretKey();
  const publicKey = Buffer.from(ed25519.getPublicKey(secretKey)).toString('hex');
  const ips = routing.routers ? [] : ['127.0.0.1'];
  to.kernel.tell(TESTER, 'our@net:distro:sys', encodeHnsUpdate({ name, publicKey, ips, ports: routing.routers ? {} : (routing.ports ?? { ws: 1 }), routers: routing.routers ?? [] }));
  return secretKey;
}

/** Connect to `to` as `name` (its key put in `to`'s PKI first) and run the XX handshake as initiator. */
export async function rawPeer(to: TestNode, name: string, opts: { proxyRequest?: boolean; secretKey?: Uint8Array } = {}): Promise<RawPeer> {
  const secretKey = opts.secretKey ?? rawIdentity(to, name);
  const ws = new WebSocket(`ws://127.0.0.1:${to.node.net.port}`);
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  const nextFrame = frameQueue(ws);
  const s = generateKeyPair();
  const hs = new XXHandshake({ initiator: true, staticKey: s });
  ws.send(hs.writeMessage());
  hs.readMessage(await nextFrame());
  ws.send(
    hs.writeMessage(
      encodeHandshakePayload({ protocolVersion: 1, name, signature: ed25519.sign(s.publicKey, secretKey), proxyRequest: opts.proxyRequest ?? false }),
    ),
  );
  const t = hs.finish();
  const reassembler = new Reassembler();
  const ready: KernelMessage[] = [];
  const send = (km: KernelMessage) => {
    const framed = frame(encodeKernelMessage(km));
    for (let o = 0; o < framed.length; o += MAX_PLAINTEXT) ws.send(t.encrypt(framed.subarray(o, o + MAX_PLAINTEXT)));
  };
  return {
    name,
    secretKey,
    ws,
    closed,
    send,
    hi: (target, text, id = 1n) =>
      send({
        id,
        source: { node: name, process: TESTER },
        target: { node: target, process: systemProcess('net') },
        message: { tag: 'request', val: { inherit: false, expectsResponse: 5n, body: utf8(text), capabilities: [] } },
      }),
    async next() {
      while (ready.length === 0) for (const m of reassembler.push(t.decrypt(await nextFrame()))) ready.push(decodeKernelMessage(m));
      return ready.shift() as KernelMessage;
    },
  };
}
