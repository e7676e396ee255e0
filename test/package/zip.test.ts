// Deterministic package zips and the strict unzip (interop §2.3).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deflateSync } from 'fflate';
import {
  checkEntryPath,
  checkZip,
  DEFAULT_ZIP_LIMITS,
  sha256Hex,
  unzip,
  unzipAsync,
  ZIP_RATIO_FLOOR_BYTES,
  ZipFormatError,
  ZipLimitError,
  ZipPathError,
  zipDirectory,
  zipEntries,
} from '../../src/core/zip.js';

/** Central-directory records of a zip, read field by field (independent of unzip()). */
function centralRecords(zip: Uint8Array) {
  const b = Buffer.from(zip);
  const eocd = b.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = b.readUInt16LE(eocd + 10);
  let p = b.readUInt32LE(eocd + 16);
  const out = [];
  for (let i = 0; i < count; i++) {
    const nameLen = b.readUInt16LE(p + 28);
    out.push({
      madeBy: b.readUInt16LE(p + 4),
      method: b.readUInt16LE(p + 10),
      time: b.readUInt16LE(p + 12),
      date: b.readUInt16LE(p + 14),
      mode: b.readUInt32LE(p + 38) >>> 16,
      name: b.subarray(p + 46, p + 46 + nameLen).toString('utf8'),
    });
    p += 46 + nameLen + b.readUInt16LE(p + 30) + b.readUInt16LE(p + 32);
  }
  return out;
}

function hasUnzip(): boolean {
  try {
    execFileSync('unzip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('package zip', () => {
  let work: string;
  let pkg: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'kit-zip-'));
    pkg = join(work, 'pkg');
    mkdirSync(join(pkg, 'ui/assets'), { recursive: true });
    mkdirSync(join(pkg, 'api'), { recursive: true });
    writeFileSync(join(pkg, 'manifest.json'), '[{"process_name":"chat"}]');
    writeFileSync(join(pkg, 'chat.wasm'), Buffer.alloc(5000, 7));
    writeFileSync(join(pkg, 'ui/index.html'), '<html></html>');
    writeFileSync(join(pkg, 'ui/assets/app.js'), 'console.log(1)');
    writeFileSync(join(pkg, 'ui.txt'), 'sorts after the ui/ folder, as Rust orders paths');
    writeFileSync(join(pkg, 'empty'), '');
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('gives the same bytes, hence the same sha256, for the same tree', async () => {
    const a = await zipDirectory(pkg);
    // Touch every file: a new mtime must not change the zip.
    utimesSync(join(pkg, 'chat.wasm'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const b = await zipDirectory(pkg);
    assert.equal(sha256Hex(a), sha256Hex(b));
    assert.match(sha256Hex(a), /^[0-9a-f]{64}$/);
  });

  it('changes the hash when a file changes', async () => {
    const before = sha256Hex(await zipDirectory(pkg));
    writeFileSync(join(pkg, 'ui/index.html'), '<html>changed</html>');
    const changed = sha256Hex(await zipDirectory(pkg));
    writeFileSync(join(pkg, 'ui/index.html'), '<html></html>');
    assert.notEqual(before, changed);
  });

  it('sorts entries by path, marks folders with a trailing slash, fixes mode and mtime', async () => {
    const recs = centralRecords(await zipDirectory(pkg));
    assert.deepEqual(
      recs.map((r) => r.name),
      ['api/', 'chat.wasm', 'empty', 'manifest.json', 'ui/', 'ui/assets/', 'ui/assets/app.js', 'ui/index.html', 'ui.txt'],
    );
    for (const r of recs) {
      assert.equal(r.mode & 0o777, 0o755, r.name);
      assert.equal(r.date, ((2023 - 1980) << 9) | (6 << 5) | 19, `${r.name}: 2023-06-19`);
      assert.equal(r.time, 0, `${r.name}: 00:00:00`);
      assert.equal(r.madeBy >> 8, 3, `${r.name}: made on unix`);
      if (r.name.endsWith('/')) assert.equal(r.mode & 0o170000, 0o040000);
      else {
        assert.equal(r.mode & 0o170000, 0o100000);
        assert.equal(r.method, 8, `${r.name} is deflated`);
      }
    }
  });

  it('a development zip (fast: native zlib) holds the same entries, deflated, as the pinned one', async () => {
    const fast = await zipDirectory(pkg, { fast: true });
    const pinned = await zipDirectory(pkg);
    const recs = centralRecords(fast);
    assert.deepEqual(
      recs.map((r) => [r.name, r.method]),
      centralRecords(pinned).map((r) => [r.name, r.method]),
    );
    const read = (zip: Uint8Array) => unzip(zip).map((e) => [e.path, Buffer.from(e.bytes).toString('hex')]);
    assert.deepEqual(read(fast), read(pinned));
  });

  it('does not depend on the order entries are given in', () => {
    const e = (path: string, s: string) => ({ path, bytes: Buffer.from(s), isDir: false });
    const a = zipEntries([e('b', 'x'), e('a/c', 'y'), { path: 'a', bytes: new Uint8Array(), isDir: true }, e('1', 'z')]);
    const b = zipEntries([e('1', 'z'), { path: 'a/', bytes: new Uint8Array(), isDir: true }, e('a/c', 'y'), e('b', 'x')]);
    assert.deepEqual(a, b);
    assert.deepEqual(
      centralRecords(a).map((r) => r.name),
      ['1', 'a/', 'a/c', 'b'],
    );
  });

  it('round-trips through unzip', async () => {
    const entries = unzip(await zipDirectory(pkg));
    const byPath = new Map(entries.map((e) => [e.path, e]));
    assert.equal(Buffer.from(byPath.get('ui/assets/app.js')!.bytes).toString(), 'console.log(1)');
    assert.equal(byPath.get('chat.wasm')!.bytes.length, 5000);
    assert.equal(byPath.get('empty')!.bytes.length, 0);
    assert.equal(byPath.get('ui/')!.isDir, true);
    assert.equal(byPath.get('manifest.json')!.isDir, false);
  });

  it('writes zips that the system unzip reads', { skip: !hasUnzip() && 'no unzip binary' }, async () => {
    const zipPath = join(work, 'out.zip');
    writeFileSync(zipPath, await zipDirectory(pkg));
    const dest = join(work, 'out');
    execFileSync('unzip', ['-q', zipPath, '-d', dest]);
    assert.equal(execFileSync('cat', [join(dest, 'ui/assets/app.js')]).toString(), 'console.log(1)');
    execFileSync('unzip', ['-tq', zipPath]);
  });

  it('follows a symlink to a file but not one that loops', async () => {
    const dir = join(work, 'links');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'real.txt'), 'hello');
    symlinkSync(join(dir, 'real.txt'), join(dir, 'link.txt'));
    symlinkSync(dir, join(dir, 'sub', 'loop'));
    const entries = unzip(await zipDirectory(dir));
    const link = entries.find((e) => e.path === 'link.txt');
    assert.equal(Buffer.from(link!.bytes).toString(), 'hello');
  });

  it('refuses to zip something that is not a folder', async () => {
    await assert.rejects(zipDirectory(join(work, 'nope')), /not a directory/);
  });
});

/** A zip with arbitrary entry names, written byte by byte, to test what unzip refuses. */
function rawZip(names: string[]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const n of names) {
    const name = Buffer.from(n);
    const data = deflateSync(Buffer.from('x'));
    const local = Buffer.alloc(30 + name.length);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(0x8cdc1683, 14); // crc32("x")
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(1, 22);
    local.writeUInt16LE(name.length, 26);
    name.copy(local, 30);
    const central = Buffer.alloc(46 + name.length);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(0x8cdc1683, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(1, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    name.copy(central, 46);
    locals.push(local, Buffer.from(data));
    centrals.push(central);
    offset += local.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(names.length, 8);
  end.writeUInt16LE(names.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, cd, end]));
}

describe('unzip', () => {
  it('reads a zip written by someone else', () => {
    const entries = unzip(rawZip(['a.txt', 'dir/b.txt']));
    assert.deepEqual(
      entries.map((e) => [e.path, Buffer.from(e.bytes).toString()]),
      [
        ['a.txt', 'x'],
        ['dir/b.txt', 'x'],
      ],
    );
  });

  for (const bad of ['../evil', 'a/../../evil', '/etc/passwd', 'a\\..\\evil', 'C:/evil', 'a//b', './a']) {
    it(`rejects the escaping entry ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => unzip(rawZip(['ok.txt', bad])),
        (e: unknown) => e instanceof ZipPathError && e.message.includes(bad) && /inside the archive/.test(e.message),
      );
    });
  }

  it('refuses entries that escape when zipping too', () => {
    assert.throws(() => zipEntries([{ path: '../x', bytes: new Uint8Array(1), isDir: false }]), ZipPathError);
    assert.equal(checkEntryPath('a/b/'), 'a/b/');
  });

  it('says what is wrong with a damaged zip', () => {
    assert.throws(() => unzip(Buffer.from('this is not a zip file at all, really')), ZipFormatError);
    const z = Buffer.from(zipEntries([{ path: 'f', bytes: Buffer.alloc(100, 1), isDir: false }]));
    const cd = z.readUInt32LE(z.length - 22 + 16);
    z[cd + 16] ^= 0xff; // the recorded CRC no longer matches the data
    assert.throws(() => unzip(z), /fails its CRC check/);
    assert.throws(() => unzip(z.subarray(0, 20)), ZipFormatError);
  });

  it('inflates only the entries asked for, but still checks every name', () => {
    const z = zipEntries([
      { path: 'manifest.json', bytes: Buffer.from('[]'), isDir: false },
      { path: 'big.wasm', bytes: Buffer.alloc(1000, 1), isDir: false },
    ]);
    assert.deepEqual(
      unzip(z, { only: (p) => p === 'manifest.json' }).map((e) => e.path),
      ['manifest.json'],
    );
    assert.throws(() => unzip(rawZip(['manifest.json', '../x']), { only: (p) => p === 'manifest.json' }), ZipPathError);
  });

  it('refuses archives that expand beyond the limit', () => {
    const z = zipEntries([{ path: 'big', bytes: Buffer.alloc(100_000), isDir: false }]);
    assert.throws(() => unzip(z, { maxBytes: 1000 }), /more than 1000 bytes/);
  });

  it('refuses a zip bomb by its ratio, past the floor, before inflating anything', async () => {
    const bomb = zipEntries([{ path: 'zeros', bytes: Buffer.alloc(ZIP_RATIO_FLOOR_BYTES + 1), isDir: false }]);
    const ratio = Math.floor((ZIP_RATIO_FLOOR_BYTES + 1) / bomb.length);
    assert.ok(ratio > DEFAULT_ZIP_LIMITS.maxRatio, `the bomb expands ${ratio} times`);
    assert.throws(() => unzip(bomb), (e: unknown) => e instanceof ZipLimitError && /times its size; the most allowed here is 100 times/.test(e.message));
    await assert.rejects(unzipAsync(bomb), ZipLimitError);
    // At or below the floor a high ratio is fine (a few zero-filled files), and a limit can be raised.
    const small = zipEntries([{ path: 'zeros', bytes: Buffer.alloc(1_000_000), isDir: false }]);
    assert.equal(unzip(small)[0].bytes.length, 1_000_000);
    assert.equal((await unzipAsync(bomb, { maxRatio: 1_000_000 }))[0].bytes.length, ZIP_RATIO_FLOOR_BYTES + 1);
  });

  it('the limits count only the entries inflated: the manifest of a big package can be read', () => {
    const big = zipEntries([
      { path: 'manifest.json', bytes: Buffer.from('[]'), isDir: false },
      { path: 'zeros', bytes: Buffer.alloc(ZIP_RATIO_FLOOR_BYTES + 1), isDir: false },
    ]);
    assert.throws(() => unzip(big), ZipLimitError);
    const only = unzip(big, { only: (p) => p === 'manifest.json' });
    assert.deepEqual(
      only.map((e) => [e.path, Buffer.from(e.bytes).toString()]),
      [['manifest.json', '[]']],
    );
    // checkZip refuses, from the directory alone, what a full unpack would.
    assert.throws(() => checkZip(big), ZipLimitError);
    assert.doesNotThrow(() => checkZip(big, { maxRatio: 1_000_000 }));
  });

  it('unzipAsync reads what unzip reads and catches a size the directory lies about', async () => {
    const z = Buffer.from(zipEntries([
      { path: 'a/', bytes: new Uint8Array(0), isDir: true },
      { path: 'a/b.txt', bytes: Buffer.from('hello'), isDir: false },
      { path: 'c.bin', bytes: Buffer.alloc(70_000, 7), isDir: false },
    ]));
    assert.deepEqual(await unzipAsync(z), unzip(z));
    // The central directory says c.bin is 10 bytes: inflating stops there and the lie is reported.
    const cd = z.readUInt32LE(z.length - 22 + 16);
    let p = cd;
    for (let n = 0; n < 2; n++) p += 46 + z.readUInt16LE(p + 28) + z.readUInt16LE(p + 30) + z.readUInt16LE(p + 32);
    z.writeUInt32LE(10, p + 24);
    await assert.rejects(unzipAsync(z), ZipFormatError);
    assert.throws(() => unzip(z), ZipFormatError);
  });
});
