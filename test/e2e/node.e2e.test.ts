// End to end, as a user would: the real `kit` binary boots a fake node in its own OS process,
// installs a package whose process was written against the bare WIT, and pokes it over HTTP RPC.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildFixture } from '../../src/build/componentize.js';
import { zipDirectory } from '../../src/core/zip.js';
import { REPO, runKit } from '../helpers/kit.js';
import { exited } from './helpers.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForOur(port: number, node: ChildProcess, output: () => string): Promise<string> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (node.exitCode !== null) throw new Error(`boot-fake-node exited ${node.exitCode}:\n${output()}`);
    try {
      const r = await fetch(`http://localhost:${port}/our`);
      if (r.ok) return await r.text();
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`node on ${port} never answered /our:\n${output()}`);
}

let chainPort = 0;

function bootNode(port: number, home: string, persist = true): { child: ChildProcess; output: () => string } {
  let out = '';
  // A private fake chain, so that no other run's fake.dev on 8545 holds our name.
  const child = spawn(
    process.execPath,
    [join(REPO, 'bin/run.js'), 'boot-fake-node', '--detached', '-p', String(port), '-o', home, ...(persist ? ['--persist'] : []), '-c', String(chainPort)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  return { child, output: () => out };
}

async function stopNode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const done = exited(child);
  child.kill('SIGINT');
  return done;
}

describe('fake node end to end', { timeout: 240_000 }, () => {
  let work: string;
  let pkgDir: string;
  let home: string;
  let port: number;
  let node: { child: ChildProcess; output: () => string };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kit-e2e-'));
    pkgDir = join(work, 'state-echo');
    home = join(work, 'home');
    cpSync(join(REPO, 'test/fixtures/packages/state-echo'), pkgDir, { recursive: true });
    const wasm = await buildFixture(join(REPO, 'test/fixtures/packages/state-echo/state-echo/src/lib.js'));
    writeFileSync(join(pkgDir, 'pkg/state-echo.wasm'), wasm);
    mkdirSync(join(pkgDir, 'target'), { recursive: true });
    // The zip name drops the publisher's last dot-segment, as the real kit names it.
    writeFileSync(join(pkgDir, 'target/state-echo:kit-tests.zip'), await zipDirectory(join(pkgDir, 'pkg')));
    port = await freePort();
    chainPort = await freePort();
    node = bootNode(port, home);
    assert.equal(await waitForOur(port, node.child, node.output), 'fake.dev');
  });

  after(async () => {
    if (node) await stopNode(node.child);
    rmSync(work, { recursive: true, force: true });
  });

  it('serves /our.js', async () => {
    const js = await (await fetch(`http://localhost:${port}/our.js`)).text();
    assert.match(js, /window\.our\.node = 'fake\.dev'/);
  });

  it('installs a package with kit start-package (NewPackage + Install over RPC)', async () => {
    const r = await runKit(['start-package', pkgDir, '-p', String(port)]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Successfully installed package state-echo:kit-tests\.os/);
  });

  it('answers kit inject-message with an echo', async () => {
    const r = await runKit(['inject-message', 'state-echo:state-echo:kit-tests.os', '{"Echo":"hello"}', '-p', String(port)]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /\{"Echo":"hello"\}/);
  });

  it('takes a blob in and gives it back', async () => {
    const blobFile = join(work, 'blob.txt');
    writeFileSync(blobFile, 'bytes in a blob');
    const r = await runKit(['inject-message', 'state-echo:state-echo:kit-tests.os', '{"Echo":1}', '-b', blobFile, '-p', String(port)]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /bytes in a blob/);
  });

  it('tells the process its own address', async () => {
    const r = await runKit(['inject-message', 'state-echo:state-echo:kit-tests.os', '"Our"', '-p', String(port)]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /fake\.dev@state-echo:state-echo:kit-tests\.os/);
  });

  it('says which process was not found, and exits non-zero', async () => {
    const r = await runKit(['inject-message', 'nope:state-echo:kit-tests.os', '{"Echo":1}', '-p', String(port)]);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /nope:state-echo:kit-tests\.os/);
    assert.match(r.output, /not found/);
  });

  it('answers malformed RPC JSON with 400 and the reason', async () => {
    const r = await fetch(`http://localhost:${port}/rpc:distro:sys/message`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"process": ',
    });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /JSON/i);
  });

  it('refuses a second node on a port in use, naming the port', async () => {
    const other = bootNode(port, join(work, 'home2'));
    const code = await exited(other.child);
    assert.notEqual(code, 0);
    assert.match(other.output(), new RegExp(String(port)));
    assert.equal(existsSync(join(work, 'home2')), false, 'the failed boot leaves no home behind');
  });

  it('refuses a second node in the home of a running node (a forgotten -o), which keeps running', async () => {
    const other = bootNode(await freePort(), home, false);
    const code = await exited(other.child);
    assert.equal(code, 1, other.output());
    assert.match(other.output(), /home .* is in use by the running node fake\.dev \(pid \d+\): two nodes cannot share a home/);
    assert.equal(await (await fetch(`http://localhost:${port}/our`)).text(), 'fake.dev');
    assert.ok(existsSync(join(home, 'vfs')), 'the running node keeps its home');
  });

  it('refuses a --home that holds other files, and keeps them', async () => {
    const mine = join(work, 'my-project');
    mkdirSync(mine);
    writeFileSync(join(mine, 'notes.txt'), 'precious');
    const other = bootNode(await freePort(), mine, false);
    const code = await exited(other.child);
    assert.equal(code, 1, other.output());
    assert.match(other.output(), /home .*my-project is not empty and is not a node home.*Pass a new or empty folder/);
    assert.equal(readFileSync(join(mine, 'notes.txt'), 'utf8'), 'precious');
  });

  it('keeps installed packages and process state across a --persist reboot', async () => {
    let r = await runKit(['inject-message', 'state-echo:state-echo:kit-tests.os', '{"SetState":"remember me"}', '-p', String(port)]);
    assert.equal(r.code, 0, r.output);
    assert.equal(await stopNode(node.child), 0, node.output());
    node = bootNode(port, home);
    await waitForOur(port, node.child, node.output);
    r = await runKit(['inject-message', 'state-echo:state-echo:kit-tests.os', '"GetState"', '-p', String(port)]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /remember me/);
  });

  it('the book: booted again with the same --home but without --persist, the node has it all; the home goes on exit', async () => {
    assert.equal(await stopNode(node.child), 0, node.output());
    node = bootNode(port, home, false);
    await waitForOur(port, node.child, node.output);
    assert.match(node.output(), /processes restored from an earlier run/);
    const r = await runKit(['inject-message', 'state-echo:state-echo:kit-tests.os', '"GetState"', '-p', String(port)]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /remember me/);
    assert.equal(await stopNode(node.child), 0, node.output());
    assert.equal(existsSync(home), false, 'without --persist the home is deleted on exit');
  });
});
