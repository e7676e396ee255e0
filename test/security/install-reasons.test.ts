// Attack (and accident): packages the node must refuse, and requests the App Store does not know.
// Before the fix `kit start-package` said only `{"InstallResponse":"Failure"}` (and told a
// zip-slip to "rebuild with kit build"), and an unknown request hung until its timeout. Now the
// node's reason travels back (as the Response's text/plain blob, the body unchanged for the real
// kit) and kit prints it; a broken manifest is caught by kit with its line and column before
// anything is sent; an unknown request is answered at once.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipDirectory, zipEntries } from '../../src/core/zip.js';
import { startPackage } from '../../src/package/start.js';
import { buildConformanceDriver, writeDriverPackage } from '../conformance/harness.js';
import { runKit } from '../helpers/kit.js';
import { assertIntact, bootTarget, rpc, type Target } from './helpers.js';

describe('attack: packages the node refuses, requests the App Store does not know', { timeout: 600_000 }, () => {
  let t: Target;
  let wasm: Uint8Array;

  before(async () => {
    t = await bootTarget();
    wasm = await buildConformanceDriver();
  });
  after(async () => {
    await t?.stop();
  });

  async function driverPackage(name: string): Promise<string> {
    const dir = join(t.c.work, name);
    await writeDriverPackage(dir, { name, processes: [{ name: 'driver', request_capabilities: ['http-server:distro:sys'], grant_capabilities: ['http-server:distro:sys'] }] }, wasm);
    return dir;
  }

  it("a zip with an entry that climbs out of its folder: kit start-package prints the node's reason", async () => {
    const dir = await driverPackage('slip');
    const manifest = readFileSync(join(dir, 'pkg/manifest.json'));
    // zipEntries refuses to write `../`, so write `aa/` and change the name bytes afterwards.
    const zip = Buffer.from(
      zipEntries([
        { path: 'manifest.json', bytes: manifest, isDir: false },
        { path: 'driver.wasm', bytes: wasm, isDir: false },
        { path: 'aa/evil.txt', bytes: Buffer.from('x'), isDir: false },
      ]),
    );
    for (let at = zip.indexOf('aa/evil.txt'); at >= 0; at = zip.indexOf('aa/evil.txt', at + 1)) zip.write('..', at, 'latin1');
    writeFileSync(join(dir, 'target/slip:kit-tests.zip'), zip);
    const r = await runKit(['start-package', dir, '-p', String(t.node.port)]);
    assert.equal(r.code, 1, r.output);
    assert.match(r.stderr, /Failed to add package\. Got response from node: \{"NewPackageResponse":"InstallFailed"\}/);
    assert.match(r.stderr, /the node says: the package zip: zip entry '\.\.\/evil\.txt' climbs out with '\.\.'/);
    assert.doesNotMatch(r.stderr, /rebuild/);
    await assertIntact(t);
  });

  it("a wasm that is not a component: the node's reason names the process", async () => {
    const dir = await driverPackage('garbage');
    writeFileSync(join(dir, 'pkg/driver.wasm'), randomBytes(4096));
    writeFileSync(join(dir, 'target/garbage:kit-tests.zip'), await zipDirectory(join(dir, 'pkg')));
    await assert.rejects(startPackage({ packageDir: dir, url: t.node.url }), (e: Error & { details?: string }) => {
      assert.match(e.message, /Failed to start package\. Got response from node: \{"InstallResponse":"Failure"\}/);
      assert.match(e.details ?? '', /^the node says: .*driver:garbage:kit-tests\.os/);
      return true;
    });
    await assertIntact(t);
  });

  it('a manifest with a number for a capability is refused by kit, with its line and column', async () => {
    const dir = await driverPackage('badcap');
    const manifest = JSON.parse(readFileSync(join(dir, 'pkg/manifest.json'), 'utf8'));
    manifest[0].request_capabilities = ['http-server:distro:sys', 42];
    writeFileSync(join(dir, 'pkg/manifest.json'), JSON.stringify(manifest, null, 2));
    const r = await runKit(['start-package', dir, '-p', String(t.node.port)]);
    assert.equal(r.code, 1, r.output);
    assert.match(r.stderr, /manifest\.json:\d+:\d+: entry 0 \("driver"\): request_capabilities\[1\] must be a process ID string/);
  });

  it('an App Store request it does not know is answered at once, saying what it takes', async () => {
    for (const body of [{ Apis: null }, 'Nonsense', { Installl: {} }]) {
      const r = await rpc(t.node.url, 'main:app-store:sys', body, { expectsResponse: 600 });
      const answer = JSON.parse(r.body) as { Err?: string };
      assert.match(answer.Err ?? '', /main:app-store:sys takes "Apis" or \{"NewPackage" \| "Install" \| "Uninstall" \| "GetApi": \.\.\.\}/, r.body);
    }
    await assertIntact(t);
  });
});
