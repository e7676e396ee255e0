// `kit reset-cache` while a node runs, as the book promises it "won't hurt": the node keeps
// installing and running packages (it transpiles again what the cache lost), and the record of the
// chain it uses survives, so that chain is still found, and stopped with its last node. The node
// gets a cache folder of its own (KIT_CACHE), never the one other suites share.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runKit } from '../helpers/kit.js';
import { bootFakeNode, type FakeNode, freePort } from './helpers.js';

// Same name and template as in templates.e2e: the component cache makes the build free.
const PKG = 'echo-ts';
const PROCESS = `${PKG}:${PKG}:template.os`;

describe('kit reset-cache with a running node', { timeout: 20 * 60_000 }, () => {
  let work: string;
  let dir: string;
  let cache: string;
  let node: FakeNode;
  let chainPort: number;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kit-reset-'));
    dir = join(work, PKG);
    cache = join(work, 'cache');
    let r = await runKit(['new', dir, '-t', 'echo', '-l', 'typescript'], { cwd: work });
    assert.equal(r.code, 0, r.output);
    r = await runKit(['build', dir], { cwd: work, timeoutMs: 15 * 60_000 });
    assert.equal(r.code, 0, r.output);
    chainPort = await freePort();
    node = await bootFakeNode(await freePort(), join(work, 'home'), { KIT_CACHE: cache }, { chainPort });
  });

  after(async () => {
    if (node) await node.stop();
    rmSync(work, { recursive: true, force: true });
  });

  async function installAndAsk(): Promise<void> {
    const r = await runKit(['start-package', dir, '-p', String(node.port)]);
    assert.equal(r.code, 0, `${r.output}\nnode:\n${node.output().slice(-3000)}`);
    const echo = await runKit(['inject-message', PROCESS, '"hello"', '-p', String(node.port)]);
    assert.equal(echo.code, 0, `${echo.output}\nnode:\n${node.output().slice(-3000)}`);
    assert.match(echo.stdout, /hello/);
  }

  it('the node installs and runs packages after the cache is emptied under it', async () => {
    await installAndAsk();
    const transpiled = readdirSync(join(cache, 'components'));
    assert.ok(transpiled.length > 0, 'the node transpiled the component into its cache');

    const r = await runKit(['reset-cache'], { env: { KIT_CACHE: cache } });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, new RegExp(`kept chain/port-${chainPort}, in use by running kit processes`));
    assert.ok(!existsSync(join(cache, 'components')), 'the transpile cache is gone');
    assert.ok(existsSync(join(cache, 'chain', `port-${chainPort}`, 'anvil.json')), "the running chain's record is kept");

    await installAndAsk();
    assert.ok(existsSync(join(cache, 'components')), 'the node made its transpile cache again');
    assert.doesNotMatch(node.output(), /ENOENT/);
  });

  it('a node booted after the reset finds the same chain', async () => {
    const second = await bootFakeNode(await freePort(), join(work, 'home2'), { KIT_CACHE: cache }, { chainPort, name: 'second' });
    try {
      assert.match(second.output(), new RegExp(`chain on ${chainPort}: started by kit`));
    } finally {
      await second.stop();
    }
  });
});
