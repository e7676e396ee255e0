// Attack: install a package under the system publisher, e.g. as `distro:sys` (whose processes
// vfs, kv and sqlite treat as runtime modules, with rights over every package's data) or
// `app-store:sys` (which owns the store's own files). The sweep's `evil:distro:sys` read and
// overwrote another package's files this way. Now the App Store refuses any package whose
// publisher is `sys` at NewPackage and at Install, with the reason, and kit refuses to send one.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256Hex } from '../../src/core/zip.js';
import { makeMessage, RpcStatusError, sendMessage } from '../../src/node-client/rpc.js';
import { startPackage } from '../../src/package/start.js';
import { buildConformanceDriver, writeDriverPackage } from '../conformance/harness.js';
import { assertIntact, bootTarget, type Target } from './helpers.js';

describe('attack: a package named like a system package', { timeout: 600_000 }, () => {
  let t: Target;
  let zip: Uint8Array;
  let dir: string;

  before(async () => {
    t = await bootTarget();
    dir = join(t.c.work, 'impostor');
    const caps = ['http-server:distro:sys', 'vfs:distro:sys'];
    await writeDriverPackage(dir, { name: 'impostor', processes: [{ name: 'evil', request_capabilities: caps, grant_capabilities: caps }] }, await buildConformanceDriver());
    zip = readFileSync(join(dir, 'target/impostor:kit-tests.zip'));
  });
  after(async () => {
    await t?.stop();
  });

  /** What the real kit sends (it checks no names): NewPackage with the zip, then Install. */
  async function ask(body: unknown, blob?: Uint8Array): Promise<{ answer: unknown; reason: string }> {
    const r = await sendMessage(t.node.url, makeMessage({ process: 'main:app-store:sys', body: JSON.stringify(body), blob, expectsResponse: 60 }));
    assert.ok(r);
    return { answer: JSON.parse(r.body), reason: Buffer.from(r.blob ?? []).toString() };
  }

  for (const [name, publisher] of [
    ['distro', 'sys'],
    ['app-store', 'sys'],
    ['impostor', 'sys'],
  ]) {
    it(`refuses ${name}:${publisher} at NewPackage and at Install, saying why`, async () => {
      const package_id = { package_name: name, publisher_node: publisher };
      const added = await ask({ NewPackage: { package_id, mirror: true } }, zip);
      assert.deepEqual(added.answer, { NewPackageResponse: 'InstallFailed' });
      assert.match(added.reason, new RegExp(`${name}:sys uses the publisher "sys", which is reserved for the node's own system packages`));
      const installed = await ask({ Install: { package_id, version_hash: sha256Hex(zip), metadata: null } });
      assert.deepEqual(installed.answer, { InstallResponse: 'Failure' });
      assert.match(installed.reason, /reserved for the node's own system packages/);
      // No process of that name exists.
      await assert.rejects(
        sendMessage(t.node.url, makeMessage({ process: `evil:${name}:${publisher}`, body: '"hi"', expectsResponse: 5 })),
        (e: unknown) => e instanceof RpcStatusError && /404/.test(e.message),
      );
      await assertIntact(t);
    });
  }

  it('kit start-package refuses to send a package whose publisher is sys', async () => {
    const metaPath = join(dir, 'metadata.json');
    const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    meta.properties.publisher = 'sys';
    writeFileSync(metaPath, JSON.stringify(meta));
    writeFileSync(join(dir, 'target/impostor:sys.zip'), zip);
    await assert.rejects(startPackage({ packageDir: dir, url: t.node.url }), (e: Error & { hint?: string }) => {
      assert.match(e.message, /publisher "sys" is reserved for the node's own system packages/);
      assert.match(e.hint ?? '', /your node name/);
      return true;
    });
  });
});
