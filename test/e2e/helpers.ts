// Shared by the end-to-end suites: a fake node booted by the real `kit boot-fake-node --detached`
// in its own OS process, and a free port to put it on.

import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO } from '../helpers/kit.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A child's exit code once it has exited and what it printed has been read: 'exit' can come
 * before the last chunks of its output (under load), and 'close' never comes while a grandchild
 * (an anvil it started) still holds the pipes, so wait for the pipes' end for a moment after exit.
 */
export async function exited(child: ChildProcess): Promise<number | null> {
  const drained = Promise.all(
    [child.stdout, child.stderr].map((s) => (s && !s.readableEnded ? new Promise((r) => s.once('end', r).once('close', r)) : undefined)),
  );
  const gone = child.exitCode !== null || child.signalCode !== null;
  const code = gone ? child.exitCode : await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  await Promise.race([drained, new Promise((r) => setTimeout(r, 2000))]);
  return code;
}

/**
 * Poll a test driver's recorded events (its `events()` drains them) until one matches, for up to
 * 5 s; the error lists everything seen meanwhile.
 */
export async function waitForEvent<E>(who: string, events: () => Promise<E[]>, match: (e: E) => boolean, what: string): Promise<E> {
  const seen: E[] = [];
  for (let i = 0; i < 200; i++) {
    for (const e of await events()) {
      seen.push(e);
      if (match(e)) return e;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${who} never reported ${what}; it saw ${JSON.stringify(seen)}`);
}

export interface FakeNode {
  child: ChildProcess;
  port: number;
  home: string;
  /** Everything the node printed so far (its terminal lines and log). */
  output(): string;
  stop(): Promise<number | null>;
}

/**
 * Boot `kit boot-fake-node --detached` on `port` with home `home`; resolves once /our answers.
 * The node gets a fake chain of its own on a free port (it starts one and stops it on exit), so
 * suites never meet a chain where another run registered `fake.dev` with a different key.
 */
export async function bootFakeNode(
  port: number,
  home: string,
  env: NodeJS.ProcessEnv = {},
  opts: { chainPort?: number; name?: string } = {},
): Promise<FakeNode> {
  let out = '';
  // Nodes that must meet share a chain (opts.chainPort); otherwise each gets its own.
  const chainPort = String(opts.chainPort ?? (await freePort()));
  const args = [join(REPO, 'bin/run.js'), 'boot-fake-node', '--detached', '-p', String(port), '-o', home, '-c', chainPort];
  if (opts.name) args.push('-f', opts.name);
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const node: FakeNode = {
    child,
    port,
    home,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const done = exited(child);
      child.kill('SIGINT');
      return done;
    },
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`boot-fake-node exited ${child.exitCode}:\n${out}`);
    try {
      const r = await fetch(`http://localhost:${port}/our`);
      if (r.ok) return node;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  await node.stop();
  throw new Error(`node on ${port} never answered /our:\n${out}`);
}
