// `kit remove-package` end to end: a package installed with the real `kit` on a fake node (its
// own OS process) is uninstalled through the App Store; its processes stop, its drive goes, and
// the App Store forgets it (so it can be installed again).

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runKit } from '../helpers/kit.js';
import { bootFakeNode, type FakeNode, freePort } from './helpers.js';

// Same name and template as in templates.e2e: the component cache makes the second build free.
const PKG = 'chat-ts';
const PROCESS = `${PKG}:${PKG}:template.os`;

describe('kit remove-package', { timeout: 20 * 60_000 }, () => {
  let work: string;
  let dir: string;
  let node: FakeNode;
  let port: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kit-remove-'));
    dir = join(work, PKG);
    node = await bootFakeNode(await freePort(), join(work, 'home'));
    port = String(node.port);
    let r = await runKit(['new', dir, '-t', 'chat', '-l', 'typescript'], { cwd: work });
    assert.equal(r.code, 0, r.output);
    r = await runKit(['build', dir], { cwd: work, timeoutMs: 15 * 60_000 });
    assert.equal(r.code, 0, r.output);
  });

  after(async () => {
    if (node) await node.stop();
    rmSync(work, { recursive: true, force: true });
  });

  // The package's `pkg` drive (its code and manifest), as Hyperdrive's app store removes it.
  const drive = () => join(node.home, 'vfs', `${PKG}:template.os`, 'pkg');

  async function install(): Promise<void> {
    const r = await runKit(['start-package', dir, '-p', port]);
    assert.equal(r.code, 0, `${r.output}\nnode:\n${node.output().slice(-3000)}`);
    const history = await runKit(['inject-message', PROCESS, '{"History":"fake.dev"}', '-p', port]);
    assert.equal(history.code, 0, history.output);
    assert.ok(existsSync(drive()), 'the pkg drive exists once installed');
  }

  async function assertGone(): Promise<void> {
    const r = await runKit(['inject-message', PROCESS, '{"History":"fake.dev"}', '-p', port]);
    assert.notEqual(r.code, 0, 'the process still answers');
    assert.match(r.output, /not found/);
    assert.ok(!existsSync(drive()), `${drive()} is still there`);
    const apis = await runKit(['view-api', '-p', port]);
    assert.equal(apis.code, 0, apis.output);
    assert.doesNotMatch(apis.stdout, new RegExp(`${PKG}:template\\.os`));
  }

  it('uninstalls the package named by DIR/metadata.json: processes stop, drive goes, app store forgets', async () => {
    await install();
    const apis = await runKit(['view-api', '-p', port]);
    assert.match(apis.stdout, /chat-ts:template\.os/);
    const r = await runKit(['remove-package', dir, '-p', port]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Successfully removed package chat-ts:template\.os/);
    await assertGone();
  });

  it('says so when the package is not installed', async () => {
    const r = await runKit(['remove-package', dir, '-p', port]);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /Failed to remove package/);
    assert.match(r.output, /chat-ts:template\.os/);
  });

  it('installs again after removal and removes by --package/--publisher', async () => {
    await install();
    const r = await runKit(['remove-package', '--package', PKG, '--publisher', 'template.os', '-p', port], { cwd: work });
    assert.equal(r.code, 0, r.output);
    await assertGone();
  });

  it('wants both --package and --publisher, or neither', async () => {
    const r = await runKit(['remove-package', '--package', PKG, '-p', port], { cwd: work });
    assert.notEqual(r.code, 0);
    assert.match(r.output, /--publisher/);
  });
});
