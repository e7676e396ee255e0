// The book's Quick Start, typed as written: two fake nodes in their own OS processes with
// terminals on stdin (the first starts the fake chain), the chat app from `kit new`, and messages
// both ways, by `kit inject-message` and by `m` typed at each node's terminal. Then the first node
// is stopped with Ctrl-C and booted again: the chain outlives it, and the two find each other.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { probeChain } from '../../src/chain/index.js';
import { REPO, runKit } from '../helpers/kit.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Terminal {
  child: ChildProcess;
  output(): string;
  type(line: string): void;
  /** Resolves when the terminal has printed something matching `re`. */
  waitFor(re: RegExp, ms?: number): Promise<void>;
}

function spawnKit(args: string[]): Terminal {
  let out = '';
  const child = spawn(process.execPath, [join(REPO, 'bin/run.js'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  return {
    child,
    output: () => out,
    type: (line) => child.stdin?.write(`${line}\n`),
    async waitFor(re, ms = 60_000) {
      const deadline = Date.now() + ms;
      while (!re.test(out)) {
        if (child.exitCode !== null) throw new Error(`kit ${args[0]} exited ${child.exitCode}:\n${out}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; output so far:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

async function stop(t: Terminal | undefined): Promise<void> {
  if (!t || t.child.exitCode !== null) return;
  const done = new Promise((r) => t.child.once('exit', r));
  t.child.kill('SIGINT');
  await done;
}

describe('the Quick Start: two fake nodes chat', { timeout: 300_000 }, () => {
  let work: string;
  let chainPort: number;
  let port1: number;
  let port2: number;
  let node1: Terminal;
  let node2: Terminal;
  const app = 'my-chat-app:my-chat-app:template.os';

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kit-quickstart-'));
    [chainPort, port1, port2] = [await freePort(), await freePort(), await freePort()];
    // One terminal after the other, as in the book: the first node starts the chain.
    node1 = spawnKit(['boot-fake-node', '-p', String(port1), '-o', join(work, 'node1'), '-c', String(chainPort)]);
    await node1.waitFor(/is running/);
    node2 = spawnKit([
      'boot-fake-node',
      '--home',
      join(work, 'node2'),
      '--port',
      String(port2),
      '--fake-node-name',
      'fake2',
      '--fakechain-port',
      String(chainPort),
    ]);
    await node2.waitFor(/is running/);
    let r = await runKit(['new', 'my-chat-app'], { cwd: work });
    assert.equal(r.code, 0, r.output);
    r = await runKit(['build', 'my-chat-app'], { cwd: work, timeoutMs: 240_000 });
    assert.equal(r.code, 0, r.output);
    r = await runKit(['start-package', 'my-chat-app', '-p', String(port1)], { cwd: work });
    assert.equal(r.code, 0, r.output);
    r = await runKit(['start-package', 'my-chat-app', '--port', String(port2)], { cwd: work });
    assert.equal(r.code, 0, r.output);
  });

  after(async () => {
    await stop(node1);
    await stop(node2);
    rmSync(work, { recursive: true, force: true });
  });

  it('delivers an injected message to the other node, which prints it', async () => {
    const r = await runKit([
      'inject-message',
      app,
      '{"Send": {"target": "fake2.dev", "message": "hello from the outside world"}}',
      '-p',
      String(port1),
    ]);
    assert.equal(r.code, 0, r.output);
    await node2.waitFor(/fake\.dev: hello from the outside world/);
  });

  it('replies through the first node with --node, and from the second node with -p', async () => {
    let r = await runKit([
      'inject-message',
      app,
      '{"Send": {"target": "fake.dev", "message": "replying from fake2.dev using first method..."}}',
      '--node',
      'fake2.dev',
      '-p',
      String(port1),
    ]);
    assert.equal(r.code, 0, r.output);
    await node1.waitFor(/fake2\.dev: replying from fake2\.dev using first method\.\.\./);
    r = await runKit(['inject-message', app, '{"Send": {"target": "fake.dev", "message": "and second!"}}', '-p', String(port2)]);
    assert.equal(r.code, 0, r.output);
    await node1.waitFor(/fake2\.dev: and second!/);
  });

  it('chats from each node terminal with m', async () => {
    node1.type(`m our@${app} '{"Send": {"target": "fake2.dev", "message": "hello world"}}'`);
    await node2.waitFor(/fake\.dev: hello world/);
    node2.type(`m our@${app} '{"Send": {"target": "fake.dev", "message": "wow, it works!"}}'`);
    await node1.waitFor(/fake2\.dev: wow, it works!/);
  });

  it('says hi between the node terminals', async () => {
    node2.type('hi fake.dev hello!');
    await node1.waitFor(/fake2\.dev: hello!/);
    await node2.waitFor(/response from fake\.dev: ack/);
  });

  it("the README's inject-message example gets an answer (the package there is my-app)", async () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const body = /^kit inject-message my-app:my-app:template\.os '(.+)'$/m.exec(readme)?.[1];
    assert.ok(body, 'the README shows a kit inject-message to my-app');
    const r = await runKit(['inject-message', app, body, '-p', String(port1)]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /body: "Send"/);
    await node1.waitFor(/my-chat-app:template\.os: fake\.dev: hello\b/);
  });

  it('a typo in the process name at the terminal says there is no such process', async () => {
    node1.type(`m our@my-chat-ap:my-chat-app:template.os '{"History": "fake2.dev"}'`);
    await node1.waitFor(/No process my-chat-ap:my-chat-app:template\.os on this node/);
  });

  it('keeps the history on each side', async () => {
    const r = await runKit(['inject-message', app, '{"History": "fake2.dev"}', '-p', String(port1)]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /hello from the outside world/);
    assert.match(r.output, /wow, it works!/);
  });

  it('survives Ctrl-C on the first node: the chain stays up, the node boots again and messages flow both ways', async () => {
    const chainUrl = `http://127.0.0.1:${chainPort}`;
    assert.match(node1.output(), new RegExp(`chain on ${chainPort}: started now by kit`), 'the first node started the chain');
    await stop(node1);
    assert.notEqual(await probeChain(chainUrl), undefined, 'the chain outlives the node that started it');

    node1 = spawnKit(['boot-fake-node', '-p', String(port1), '-o', join(work, 'node1'), '-c', String(chainPort)]);
    await node1.waitFor(/is running/);
    assert.match(node1.output(), new RegExp(`chain on ${chainPort}: started by kit \\(pid \\d+`), 'the rebooted node found the chain');
    const r = await runKit(['start-package', 'my-chat-app', '-p', String(port1)], { cwd: work });
    assert.equal(r.code, 0, r.output);

    const send = (port: number, target: string, message: string) =>
      runKit(['inject-message', app, JSON.stringify({ Send: { target, message } }), '-p', String(port)]);
    let s = await send(port1, 'fake2.dev', 'back after a reboot');
    assert.equal(s.code, 0, s.output);
    await node2.waitFor(/fake\.dev: back after a reboot/);
    s = await send(port2, 'fake.dev', 'welcome back');
    assert.equal(s.code, 0, s.output);
    await node1.waitFor(/fake2\.dev: welcome back/);
  });

  it('the chain stops with the last node that uses it', async () => {
    await stop(node1);
    assert.notEqual(await probeChain(`http://127.0.0.1:${chainPort}`), undefined, 'fake2.dev still uses it');
    await stop(node2);
    assert.equal(await probeChain(`http://127.0.0.1:${chainPort}`, 500), undefined);
  });
});
