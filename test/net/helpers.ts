// Nodes booted in-process with bootNode, their PKI fed the way hns-indexer feeds it: HnsUpdate
// Requests (MessagePack) to net:distro:sys.

import { mkdtempSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { WebSocket } from 'ws';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { createLogger } from '../../src/core/log.js';
import { encodeHnsUpdate, netRootCap } from '../../src/runtime/modules/net/index.js';
import { bootNode, type RunningNode } from '../../src/runtime/node.js';
import { type Capability, messagingCap, NETWORK_PARAMS, type ProcessId, systemProcess } from '../../src/core/types.js';

/** A native test process with the networking capability and messaging caps to net and kernel. */
export const TESTER: ProcessId = { processName: 'tester', packageName: 'net-test', publisherNode: 'test.os' };

export interface TestNode {
  node: RunningNode;
  kernel: Kernel;
  prints: string[];
  name: string;
  home: string;
  /** With `terminal`: type a line into the node's terminal. */
  type?: (line: string) => void;
}

export const ROOT = mkdtempSync(join(tmpdir(), 'kit-net-'));

export async function bootTestNode(name: string, opts: { persist?: boolean; home?: string; terminal?: boolean } = {}): Promise<TestNode> {
  const home = opts.home ?? join(ROOT, name);
  const prints: string[] = [];
  const input = new PassThrough();
  const output = new PassThrough();
  output.on('data', (d: Buffer) => prints.push(...d.toString().split('\n')));
  const node = await bootNode({
    home,
    port: 0,
    name,
    persist: opts.persist,
    terminal: opts.terminal ? { input, output } : null,
    log: createLogger({ target: name, terminal: null, file: null }),
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
  return { node, kernel, prints, name, home, type: opts.terminal ? (line) => input.write(`${line}\n`) : undefined };
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
