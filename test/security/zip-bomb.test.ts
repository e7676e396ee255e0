// Attack: zip bombs. A package zip, or a zip a process hands to vfs AddZip, that unpacks far past
// its size (the sweep installed a 4.8 MB zip that wrote 1 GB, twice in memory, holding the node
// for 5 s). The node's zip limits (here 64 MiB and the default 100x past 32 MiB; set with
// `kit boot-fake-node --max-zip-bytes / --max-zip-ratio`) refuse them before anything is
// inflated or written, and the refusal says which limit and how to raise it.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ZIP_RATIO_FLOOR_BYTES, zipDirectory, zipEntries } from '../../src/core/zip.js';
import { startPackage } from '../../src/package/start.js';
import { PUBLISHER } from '../conformance/harness.js';
import { assertIntact, bootTarget, type Target } from './helpers.js';

const MAX_BYTES = 64 * 1024 * 1024;

/** A package whose zip holds an empty manifest and `bytes` zeros. */
async function bombPackage(dir: string, name: string, bytes: number): Promise<void> {
  mkdirSync(join(dir, 'pkg'), { recursive: true });
  mkdirSync(join(dir, 'target'), { recursive: true });
  writeFileSync(join(dir, 'pkg/manifest.json'), '[]');
  writeFileSync(join(dir, 'pkg/zeros.bin'), Buffer.alloc(bytes));
  const properties = { package_name: name, publisher: PUBLISHER, current_version: '0.1.0', mirrors: [], code_hashes: { '0.1.0': '' }, wit_version: 1, dependencies: [] };
  writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ name, description: '', image: '', external_url: '', animation_url: '', properties }));
  writeFileSync(join(dir, `target/${name}:kit-tests.zip`), await zipDirectory(join(dir, 'pkg')));
}

describe('attack: zip bombs', { timeout: 600_000 }, () => {
  let t: Target;

  before(async () => {
    t = await bootTarget({ zipLimits: { maxBytes: MAX_BYTES } });
  });
  after(async () => {
    await t?.stop();
  });

  it('a package that unpacks past --max-zip-bytes is refused with the reason', async () => {
    const dir = join(t.c.work, 'too-big');
    await bombPackage(dir, 'too-big', MAX_BYTES + 1024 * 1024);
    await assert.rejects(startPackage({ packageDir: dir, url: t.node.url }), (e: Error & { details?: string }) => {
      assert.match(e.message, /Failed to add package/);
      assert.match(e.details ?? '', /the node says: the package zip: zip expands to more than 67108864 bytes \(64\.0 MiB\).*--max-zip-bytes/);
      return true;
    });
    await assertIntact(t);
  });

  it('a package that unpacks more than 100 times its size is refused with the reason', async () => {
    const dir = join(t.c.work, 'bomb');
    await bombPackage(dir, 'bomb', ZIP_RATIO_FLOOR_BYTES + 8 * 1024 * 1024);
    await assert.rejects(startPackage({ packageDir: dir, url: t.node.url }), (e: Error & { details?: string }) => {
      assert.match(e.details ?? '', /the node says: the package zip: zip of [\d.]+ KiB expands to 40\.0 MiB, \d+ times its size; the most allowed here is 100 times/);
      return true;
    });
    await assertIntact(t);
  });

  it("a process's vfs AddZip of a bomb is refused and writes nothing", async () => {
    const bomb = zipEntries([{ path: 'zeros.bin', bytes: Buffer.alloc(ZIP_RATIO_FLOOR_BYTES + 1), isDir: false }]);
    const driver = t.c.driver('driver', 'victim');
    const a = await driver.json('vfs:distro:sys', { path: '/victim:kit-tests.os/data/bomb', action: 'AddZip' }, { blob: bomb });
    // hyperdrive/src/vfs.rs answers an archive it cannot open with VfsError::ParseError { error, path }.
    assert.match(JSON.stringify(a), /"ParseError":\{"error":"[^"]*zip of .* times its size[^"]*","path":"\/victim:kit-tests\.os\/data\/bomb"/);
    assert.equal(existsSync(join(t.node.home, 'vfs/victim:kit-tests.os/data/bomb/zeros.bin')), false);
    await assertIntact(t);
  });
});
