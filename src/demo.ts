// `npm start`: the book's Quick Start in one process. Starts a fake chain, boots two fake nodes
// that register on it and find each other through Hypermap, creates the chat template (`kit
// new`), builds it (`kit build`), installs it on both nodes over their HTTP RPC (`kit
// start-package`), and chats both ways, showing what each node's terminal prints.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildPackage } from './build/build.js';
import { type Chain, startChain } from './chain/index.js';
import { formatKitError, KitError } from './cli/errors.js';
import { makeMessage, sendMessage } from './node-client/rpc.js';
import { startPackage } from './package/start.js';
import { createLogger } from './core/log.js';
import { bootNode, type RunningNode } from './runtime/node.js';
import { createPackage } from './templates/index.js';

const PACKAGE = 'my-chat-app';
const APP = `${PACKAGE}:${PACKAGE}:template.os`;

const started = performance.now();
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

/** Run one step, printing `  <what> ... <time>` and what it returns to say. */
async function step<T>(what: string, fn: () => Promise<T>, say?: (v: T) => string): Promise<T> {
  process.stdout.write(`  ${what.padEnd(40)}`);
  const t0 = performance.now();
  const value = await fn();
  const extra = say ? `  ${say(value)}` : '';
  process.stdout.write(`${seconds(performance.now() - t0).padStart(8)}${extra}\n`);
  return value;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A node terminal that keeps what it prints, so the demo can show it. */
function terminalFor(lines: string[]): Writable {
  return new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split(/\r?\n/)) if (l.trim()) lines.push(l.trim());
      done();
    },
  });
}

async function waitFor(lines: string[], text: string, ms = 15_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = lines.find((l) => l.includes(text));
    if (hit) return hit;
    if (Date.now() > deadline) throw new KitError(`no node printed "${text}" within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kit-demo-'));
  const quiet = createLogger({ target: 'kit::demo', terminal: null });
  const nodes: RunningNode[] = [];
  let chain: Chain | undefined;
  console.log("kit demo: the Quick Start — a fake chain, two fake nodes, the chat app, messages both ways\n");
  try {
    chain = await step('kit chain', async () => startChain({ port: await freePort() }), (c) => c.url);
    const fakechainPort = chain.port;
    const printed = new Map<string, string[]>();
    for (const name of ['fake.dev', 'fake2.dev']) {
      const lines: string[] = [];
      printed.set(name, lines);
      const node = await step(
        `kit boot-fake-node ${name}`,
        () => bootNode({ home: join(work, name), port: 0, name, fakechainPort, log: quiet, terminal: { input: null, output: terminalFor(lines) } }),
        (n) => `${n.url}, registered on Hypermap`,
      );
      nodes.push(node);
    }
    const dir = join(work, PACKAGE);
    await step(`kit new ${PACKAGE}`, () => createPackage({ dir, template: 'chat', language: 'typescript' }), (r) => `${r.files.length} files`);
    await step(
      `kit build ${PACKAGE}`,
      () => buildPackage({ dir, logger: quiet, progress: null }),
      (b) => {
        const made = b.processes.filter((p) => p.status === 'built' && !p.cached).length;
        return made > 0 ? `${made} component(s) made (cached for next time)` : 'components from the cache';
      },
    );
    for (const node of nodes) await step(`kit start-package (${node.name})`, () => startPackage({ packageDir: dir, url: node.url }));

    const [one, two] = nodes;
    const send = (from: RunningNode, target: string, message: string) =>
      sendMessage(from.url, makeMessage({ process: APP, body: JSON.stringify({ Send: { target, message } }) }));
    console.log('');
    for (const [from, to, message] of [
      [one, two, 'hello from the outside world'],
      [two, one, 'replying from fake2.dev'],
    ] as const) {
      const shown = await step(`${from.name} -> ${to.name}`, async () => {
        await send(from, to.name, message);
        return waitFor(printed.get(to.name) ?? [], `${from.name}: ${message}`);
      });
      console.log(`    ${to.name}'s terminal: ${shown.replace(/^\S+ \d\d:\d\d /, '')}`);
    }
    const history = await sendMessage(one.url, makeMessage({ process: APP, body: JSON.stringify({ History: 'fake2.dev' }) }));
    console.log(`\nfake.dev's history with fake2.dev: ${history?.body}\n`);
    await step('stop nodes and chain', async () => {
      for (const n of nodes.splice(0)) await n.stop();
      await chain?.stop();
      chain = undefined;
    });
    console.log(`\ndone in ${seconds(performance.now() - started)}. Try it by hand: the Quick Start in README.md.`);
  } finally {
    for (const n of nodes) await n.stop().catch(() => {});
    await chain?.stop().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  await main();
  process.exit(0);
} catch (e) {
  console.error(e instanceof KitError ? `\n${formatKitError(e)}` : e);
  process.exit(1);
}
