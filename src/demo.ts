// `npm start`: the package dev loop on one fake node, in this process. Boots a node, creates the
// chat template (`kit new`), builds it (`kit build`), installs it over the node's HTTP RPC (`kit
// start-package`), sends two chat messages and prints the history. Talking between two nodes
// waits for networking; until then the chat process messages itself.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPackage } from './build/build.js';
import { formatKitError, KitError } from './cli/errors.js';
import { makeMessage, sendMessage } from './node-client/rpc.js';
import { startPackage } from './package/start.js';
import { createLogger } from './runtime/log.js';
import { bootNode, type RunningNode } from './runtime/node.js';
import { createPackage } from './templates/index.js';

const NODE_NAME = 'fake.dev';
const PACKAGE = 'chat-demo';

const started = performance.now();
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

/** Run one step, printing `  <what> ... <time>` and what it returns to say. */
async function step<T>(what: string, fn: () => Promise<T>, say?: (v: T) => string): Promise<T> {
  process.stdout.write(`  ${what.padEnd(34)}`);
  const t0 = performance.now();
  const value = await fn();
  const extra = say ? `  ${say(value)}` : '';
  process.stdout.write(`${seconds(performance.now() - t0).padStart(8)}${extra}\n`);
  return value;
}

async function chat(url: string, body: unknown): Promise<unknown> {
  const target = `${PACKAGE}:${PACKAGE}:template.os`;
  const res = await sendMessage(url, makeMessage({ process: target, body: JSON.stringify(body) }));
  return res ? JSON.parse(res.body) : null;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kit-demo-'));
  const quiet = createLogger({ target: 'kit::demo', terminal: null });
  let node: RunningNode | undefined;
  console.log('kit demo: the package dev loop on one fake node\n');
  try {
    node = await step('boot fake node', () => bootNode({ home: join(work, 'home'), port: 0, name: NODE_NAME, log: quiet }), (n) => `${n.name} on ${n.url}`);
    const url = node.url;
    const dir = join(work, PACKAGE);
    await step('kit new (chat, typescript)', () => createPackage({ dir, template: 'chat', language: 'typescript' }), (r) => `${r.files.length} files`);
    const build = await step(
      'kit build',
      () => buildPackage({ dir, logger: quiet, progress: null }),
      (b) => {
        const made = b.processes.filter((p) => p.status === 'built' && !p.cached).length;
        return made > 0 ? `${made} component(s) made (cached for next time)` : 'components from the cache';
      },
    );
    await step('kit start-package', () => startPackage({ packageDir: dir, url }), (r) => r.packageId);
    for (const message of ['hello from kit', 'the dev loop works']) {
      await step(`send "${message}"`, () => chat(url, { Send: { target: NODE_NAME, message } }));
    }
    const history = (await step('ask for the history', () => chat(url, { History: NODE_NAME }))) as {
      History?: Array<{ author: string; content: string }>;
    };
    console.log(`\nchat history with ${NODE_NAME}:`);
    for (const m of history.History ?? []) console.log(`  ${m.author}: ${m.content}`);
    console.log(`\npackage zip sha256 ${build.zipHash}`);
    await step('stop node', () => (node as RunningNode).stop());
    node = undefined;
    console.log(`done in ${seconds(performance.now() - started)}. Next: \`kit new my-app\`, \`kit boot-fake-node\` (see README).`);
  } finally {
    await node?.stop();
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
