// `kit watch` as a developer runs it: the real `kit` binary watching a package installed on a fake
// node (its own OS process). A save reloads the process on the node with its state and
// capabilities kept; a type error or a syntax error shows the compiler's file:line and leaves the
// running process alone; a manifest change reinstalls; a process folder added or deleted is
// reported; a node that goes away is reported, and gets the package again when it is back.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeMessage, nodeUrl, sendMessage } from '../../src/node-client/rpc.js';
import { REPO, runKit } from '../helpers/kit.js';
import { bootFakeNode, exited, type FakeNode, freePort } from './helpers.js';

const PROCESS = 'counter:counter:template.os';

/** A process that counts the Requests it answered, in its saved state, and says which build it is. */
const source = (version: string) => `import { awaitMessage, callInit, getTypedState, respond, setState } from 'kit/process';

const VERSION = '${version}';

export const init = callInit(() => {
  let count = getTypedState<number>() ?? 0;
  for (;;) {
    const message = awaitMessage();
    if (!message.isRequest()) continue;
    count++;
    setState(count);
    respond(\`\${VERSION}:\${count}\`);
  }
});
`;

describe('kit watch', () => {
  let work: string;
  let dir: string;
  let port: number;
  let node: FakeNode;
  let watch: ChildProcess;
  let out = '';

  const lib = () => join(dir, 'counter', 'src', 'lib.ts');

  /** Waits for the watch's output to have `n` lines matching `re` (counting from the start). */
  const waitFor = async (re: RegExp, n = 1, timeoutMs = 180_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = out.split('\n').filter((l) => re.test(l));
      if (lines.length >= n) return lines[n - 1];
      if (watch.exitCode !== null) throw new Error(`kit watch exited (${watch.exitCode}):\n${out}`);
      if (Date.now() > deadline) throw new Error(`kit watch never printed ${re} (${n}); it printed:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const count = (re: RegExp) => out.split('\n').filter((l) => re.test(l)).length;

  const ask = async (): Promise<string> => {
    const r = await runKit(['inject-message', PROCESS, '"count"', '-p', String(port)]);
    assert.equal(r.code, 0, r.output);
    const m = /body: (\S+)/.exec(r.output);
    assert.ok(m, r.output);
    return m[1];
  };

  const capabilities = async (): Promise<string> => {
    const r = await sendMessage(nodeUrl(port), makeMessage({ process: 'kernel:distro:sys', body: JSON.stringify({ Debug: { Process: PROCESS } }) }));
    const caps = (JSON.parse(r!.body) as { Debug: { Process: { capabilities: unknown[] } } }).Debug.Process.capabilities;
    return JSON.stringify(caps.map((c) => JSON.stringify(c)).sort());
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kit-watch-e2e-'));
    dir = join(work, 'counter');
    const made = await runKit(['new', dir, '-t', 'echo', '-l', 'typescript']);
    assert.equal(made.code, 0, made.output);
    // the template's process (named after the package) rewritten as the counter
    writeFileSync(lib(), source('v1'));
    const manifest = JSON.parse(readFileSync(join(dir, 'pkg', 'manifest.json'), 'utf8'));
    manifest[0].grant_capabilities = ['http-server:distro:sys'];
    writeFileSync(join(dir, 'pkg', 'manifest.json'), `${JSON.stringify(manifest, null, 4)}\n`);

    port = await freePort();
    node = await bootFakeNode(port, join(work, 'home'));
    watch = spawn(process.execPath, [join(REPO, 'bin/run.js'), 'watch', dir, '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    watch.stdout?.on('data', (d) => {
      out += d;
    });
    watch.stderr?.on('data', (d) => {
      out += d;
    });
    await waitFor(/installed on .*; watching/);
  });

  after(async () => {
    if (watch && watch.exitCode === null) {
      const done = exited(watch);
      watch.kill('SIGINT');
      await done;
    }
    await node?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('builds and installs the package, which then answers', async () => {
    assert.match(out, /built counter:template\.os in .* \(development build\)/);
    assert.equal(await ask(), 'v1:1');
    assert.equal(await ask(), 'v1:2');
  });

  it('reloads a saved process on the node, with its state and capabilities kept', async () => {
    const before = await capabilities();
    writeFileSync(lib(), source('v2'));
    const line = await waitFor(/^reloaded counter in .* on /);
    assert.match(line, /reloaded counter in [\d.]+ m?s \(build [\d.]+ m?s, swap [\d.]+ m?s\) on http:\/\/localhost:\d+/);
    assert.equal(await ask(), 'v2:3', 'the new code runs, counting on from the saved state');
    assert.equal(await capabilities(), before);
  });

  it('shows a type error with its file and line, and keeps the old process running', async () => {
    writeFileSync(lib(), source('v3').replace("const VERSION = 'v3';", "const VERSION: number = 'v3';"));
    await waitFor(/^build failed; the nodes keep running the last build/);
    await waitFor(/counter\/src\/lib\.ts:3:7 - error TS2322/);
    assert.equal(await ask(), 'v2:4');
  });

  it('shows a syntax error with its file and line, and keeps the old process running', async () => {
    writeFileSync(lib(), `${source('v3')}\nconst broken = (;\n`);
    await waitFor(/^build failed; the nodes keep running the last build/, 2);
    await waitFor(/counter\/src\/lib\.ts:\d+:\d+: error: /);
    assert.equal(await ask(), 'v2:5');
    writeFileSync(lib(), source('v3'));
    await waitFor(/^reloaded counter in /, 2);
    assert.equal(await ask(), 'v3:6');
  });

  it('reports a process folder the manifest does not list, and one that was deleted', async () => {
    mkdirSync(join(dir, 'extra', 'src'), { recursive: true });
    writeFileSync(join(dir, 'extra', 'src', 'lib.ts'), source('x'));
    await waitFor(/extra built, but pkg\/manifest\.json does not list extra\.wasm/);
    rmSync(join(dir, 'extra'), { recursive: true });
    // the next save notices it
    writeFileSync(lib(), source('v4'));
    await waitFor(/process folder extra was deleted/);
    await waitFor(/^reloaded counter in /, 3);
    assert.equal(await ask(), 'v4:7');
  });

  it('reinstalls the package when the manifest changes', async () => {
    const path = join(dir, 'pkg', 'manifest.json');
    const manifest = JSON.parse(readFileSync(path, 'utf8'));
    manifest[0].grant_capabilities = ['http-server:distro:sys', 'timer:distro:sys'];
    writeFileSync(path, `${JSON.stringify(manifest, null, 4)}\n`);
    await waitFor(/^reinstalled counter:template\.os \(the manifest or metadata changed\)/);
    assert.equal(await ask(), 'v4:8', 'a reinstall keeps the saved state too');
  });

  it('says when a node went away, keeps watching, and reinstalls when it is back', async () => {
    await node.stop();
    writeFileSync(lib(), source('v5'));
    await waitFor(/^node http:\/\/localhost:\d+ is not answering/);
    assert.equal(watch.exitCode, null, 'kit watch is still running');
    node = await bootFakeNode(port, join(work, 'home2'));
    writeFileSync(lib(), source('v6'));
    await waitFor(/answers again: package reinstalled/);
    // a fresh node: fresh state
    assert.equal(await ask(), 'v6:1');
    const reloadsBefore = count(/^reloaded counter in /);
    writeFileSync(lib(), source('v7'));
    await waitFor(/^reloaded counter in /, reloadsBefore + 1);
    assert.equal(await ask(), 'v7:2');
  });
});
