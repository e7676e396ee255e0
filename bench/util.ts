// Small helpers the bench areas share.

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Kernel } from '../src/runtime/kernel/kernel.js';
import { encodeHnsUpdate, netRootCap } from '../src/runtime/modules/net/index.js';
import type { RunningNode } from '../src/runtime/node.js';
import { type Capability, messagingCap, NETWORK_PARAMS, type ProcessId, systemProcess } from '../src/core/types.js';

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/**
 * Gives each node a native `sender` that may use the network and message net (plus `extra`
 * targets), and tells every node where the others are, as hns-indexer would.
 */
export async function meshWithSender(nodes: RunningNode[], sender: ProcessId, extra: (n: RunningNode) => Capability[] = () => []): Promise<void> {
  for (const n of nodes) {
    // Public: what it asks may answer it without a capability from it.
    await (n.kernel as Kernel).addNative({ id: sender, isPublic: true, handle: () => {} }, [
      { issuer: { node: n.name, process: systemProcess('kernel') }, params: NETWORK_PARAMS },
      messagingCap({ node: n.name, process: systemProcess('net') }),
      netRootCap(n.name),
      ...extra(n),
    ]);
    for (const about of nodes)
      n.kernel.tell(
        sender,
        'our@net:distro:sys',
        encodeHnsUpdate({ name: about.name, publicKey: about.net.publicKeyHex, ips: ['127.0.0.1'], ports: { ws: about.net.port }, routers: [] }),
      );
  }
}

/** Run the `kit` binary of `repo` in `cwd`: its exit code, output (stdout and stderr) and time. */
export function runKit(repo: string, args: string[], cwd: string): Promise<{ code: number | null; out: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((r) => {
    const child = spawn(process.execPath, [join(repo, 'bin/run.js'), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('close', (code) => r({ code, out, ms: performance.now() - t0 }));
  });
}
