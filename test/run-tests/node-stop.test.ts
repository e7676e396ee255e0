// One Ctrl-C during run-tests: the terminal sends SIGINT to the whole foreground group, so each
// node child gets it too and starts its own clean stop. run-tests must then not send it a second
// SIGINT, which the node's shutdown (cli/lifecycle.ts) takes as "stop at once, skip the clean-up"
// and reports as "got SIGINT again". The child here runs that same shutdown trigger.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { NodeProc } from '../../src/run-tests/runner.js';

const LIFECYCLE = pathToFileURL(join(import.meta.dirname, '..', '..', 'src', 'cli', 'lifecycle.js')).href;

// Stops cleanly a moment after its first signal, as a node does while it shuts its runtime down.
const NODE_LIKE = `
const { shutdownTrigger } = await import(${JSON.stringify(LIFECYCLE)});
const t = shutdownTrigger();
setInterval(() => {}, 1000);
process.stdout.write('ready\\n');
const reason = await t.reason;
process.stdout.write('stopping on ' + reason + '\\n');
setTimeout(() => { process.stdout.write('stopped cleanly\\n'); process.exit(0); }, 300);
`;

async function nodeInItsOwnGroup(): Promise<NodeProc> {
  // detached: its own process group, so the test can signal "the terminal's group" without itself.
  const child = spawn(process.execPath, ['--input-type=module', '-e', NODE_LIKE], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const node = new NodeProc('fake.dev', 0, child);
  await outputShows(node, 'ready');
  process.kill(-(child.pid as number), 'SIGINT'); // the terminal's Ctrl-C
  await outputShows(node, 'stopping');
  return node;
}

function outputShows(node: NodeProc, text: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const check = () => node.output.includes(text) && resolve();
    node.child.stdout?.on('data', check);
    node.child.once('close', () => reject(new Error(`the child exited before printing ${text}: ${node.output}`)));
    check();
  });
}

describe('run-tests stopping its nodes after a Ctrl-C', () => {
  test('a node that got the Ctrl-C itself is left to finish its clean stop', async () => {
    const node = await nodeInItsOwnGroup();
    const closed = once(node.child, 'close'); // all its output read
    await node.stop(10_000);
    await closed;
    assert.match(node.output, /stopping on SIGINT\nstopped cleanly\n/);
    assert.doesNotMatch(node.output, /again/);
    assert.equal(node.child.exitCode, 0);
  });

  test('without that grace, the second SIGINT cuts the clean-up short (what users saw)', async () => {
    const node = await nodeInItsOwnGroup();
    const closed = once(node.child, 'close');
    await node.stop(0);
    await closed;
    assert.match(node.output, /got SIGINT again while stopping/);
    assert.equal(node.child.exitCode, 130);
  });
});
