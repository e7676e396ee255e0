// vfs:distro:sys from inside a component, as Hyperdrive 1.9.2 answers: request and response shapes
// of lib/src/vfs.rs (VfsRequest, VfsAction, VfsResponse, VfsError), the capability rules and path
// handling of hyperdrive/src/vfs.rs (check_caps, parse_package_and_drive, normalize_path), the
// shared file handle per path (Files::open_file) and the metadata echo and blob mime of its
// responses. Every case sends the exact JSON a process_lib process sends.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { zipEntries } from '../../src/core/zip.js';
import { bootConformanceNode, type ConformanceNode, type DriverHandle, PUBLISHER } from './harness.js';

const VFS = 'vfs:distro:sys';
const OWNER = `vfs-owner:${PUBLISHER}`;
const DATA = `/${OWNER}/data`;
const GRANTS = ['http-server:distro:sys', VFS];
const cap = (params: unknown) => ({ process: VFS, params });

describe('conformance: vfs', { timeout: 600_000 }, () => {
  let c: ConformanceNode;
  let owner: DriverHandle;
  let twin: DriverHandle;
  let reader: DriverHandle;
  let writer: DriverHandle;
  let root: DriverHandle;
  let stranger: DriverHandle;

  /** The answer's body parsed, for a request with an optional blob (text) and metadata. */
  const vfs = async (d: DriverHandle, path: string, action: unknown, o: { blob?: string | Uint8Array; metadata?: string } = {}) =>
    JSON.parse((await d.answer(VFS, { path, action }, o)).body);

  before(async () => {
    const proc = (name: string, extra: unknown[] = []) => ({
      name,
      request_capabilities: ['http-server:distro:sys', VFS, ...extra],
      grant_capabilities: GRANTS,
    });
    c = await bootConformanceNode([
      { name: 'vfs-owner', processes: [proc('main'), proc('twin')] },
      { name: 'vfs-reader', processes: [proc('main', [cap({ kind: 'read', drive: DATA })])] },
      { name: 'vfs-writer', processes: [proc('main', [cap({ kind: 'write', drive: DATA })])] },
      { name: 'vfs-root', processes: [proc('main', [cap({ root: true })])] },
      { name: 'vfs-stranger', processes: [proc('main')] },
    ]);
    owner = c.driver('main', 'vfs-owner');
    twin = c.driver('twin', 'vfs-owner');
    reader = c.driver('main', 'vfs-reader');
    writer = c.driver('main', 'vfs-writer');
    root = c.driver('main', 'vfs-root');
    stranger = c.driver('main', 'vfs-stranger');
    assert.equal(await vfs(owner, DATA, 'CreateDrive'), 'Ok');
    assert.equal(await vfs(owner, `${DATA}/hello.txt`, 'Write', { blob: 'hello world' }), 'Ok');
  });
  after(async () => {
    await c?.stop();
  });

  it('answers each action in its VfsResponse shape (lib/src/vfs.rs VfsResponse)', async () => {
    const f = `${DATA}/shapes.txt`;
    assert.equal(await vfs(owner, f, 'CreateFile'), 'Ok');
    assert.equal(await vfs(owner, f, 'WriteAll', { blob: 'abcdef' }), 'Ok');
    assert.deepEqual(await vfs(owner, f, { Seek: { Start: 2 } }), { SeekFrom: { new_offset: 2 } });
    assert.deepEqual(await vfs(owner, f, 'ReadToString'), { ReadToString: 'cdef' });
    assert.deepEqual(await vfs(owner, f, 'Len'), { Len: 6 });
    assert.deepEqual(await vfs(owner, f, 'Metadata'), { Metadata: { file_type: 'File', len: 6 } });
    const hash = (await vfs(owner, f, 'Hash')) as { Hash: number[] };
    assert.equal(hash.Hash.length, 32, 'Hash([u8; 32]) is an array of 32 numbers');
    assert.equal(Buffer.from(hash.Hash).toString('hex'), 'bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721');
    assert.deepEqual(await vfs(owner, f, { SetLen: 3 }), 'Ok');
    const dir = (await vfs(owner, DATA, 'ReadDir')) as { ReadDir: Array<{ path: string; file_type: string }> };
    assert.ok(dir.ReadDir.some((e) => e.path === `${OWNER}/data/shapes.txt` && e.file_type === 'File'), 'entries are paths below the VFS root, without a leading /');
    const read = await owner.answer(VFS, { path: f, action: 'Read' });
    assert.equal(read.body, '"Read"');
    assert.equal(Buffer.from(read.blob!.base64, 'base64').toString(), 'abc');
  });

  it('V1: errors are lib/src/vfs.rs VfsError variants, IOError carrying the OS text', async () => {
    assert.deepEqual(await vfs(owner, `${DATA}/missing.txt`, 'Read'), { Err: { IOError: 'No such file or directory (os error 2)' } });
    assert.deepEqual(await vfs(owner, `${DATA}/x.txt`, 'Write'), { Err: 'NoBlob' }, 'Write without a blob');
    assert.deepEqual(await vfs(owner, `${DATA}/x.txt`, 'AddZip'), { Err: 'NoBlob' });
    assert.deepEqual(await vfs(owner, DATA, 'Read'), { Err: { IOError: 'Is a directory (os error 21)' } });
    assert.deepEqual(await vfs(owner, DATA, 'CreateDir'), { Err: { IOError: 'File exists (os error 17)' } });
    assert.deepEqual(await vfs(owner, `${DATA}/a/b`, 'CreateDir'), { Err: { IOError: 'No such file or directory (os error 2)' } });
    assert.deepEqual(await vfs(owner, DATA, 'RemoveDir'), { Err: { IOError: 'Directory not empty (os error 39)' } });
    assert.deepEqual(await vfs(owner, `${DATA}/hello.txt`, 'ReadDir'), { Err: { IOError: 'Not a directory (os error 20)' } });
    assert.deepEqual(await vfs(owner, `${DATA}/missing.txt`, { OpenFile: { create: false } }), {
      Err: { IOError: 'No such file or directory (os error 2)' },
    });
    // std's read_exact and read_to_string errors (vfs.rs ReadExact, ReadToString).
    assert.deepEqual(await vfs(owner, `${DATA}/hello.txt`, { ReadExact: { length: 1000 } }), { Err: { IOError: 'failed to fill whole buffer' } });
    assert.equal(await vfs(owner, `${DATA}/bin`, 'Write', { blob: new Uint8Array([0xff, 0xfe]) }), 'Ok');
    assert.deepEqual(await vfs(owner, `${DATA}/bin`, 'ReadToString'), { Err: { IOError: 'stream did not contain valid UTF-8' } });
    const zip = (await vfs(owner, `${DATA}/unzipped`, 'AddZip', { blob: 'not a zip' })) as { Err: { ParseError: { error: string; path: string } } };
    assert.equal(typeof zip.Err.ParseError.error, 'string');
  });

  it('V1: a request serde cannot read is MalformedRequest (vfs.rs: from_slice ... MalformedRequest)', async () => {
    for (const body of [
      'not json',
      '{"path": "/a:b/c"}',
      { path: `${DATA}/hello.txt`, action: 'Teleport' },
      { path: `${DATA}/hello.txt`, action: { OpenFile: {} } },
      { path: `${DATA}/hello.txt`, action: { Seek: { Start: -1 } } },
      { path: `${DATA}/hello.txt`, action: { ReadExact: { length: 1.5 } } },
      { path: 7, action: 'Read' },
      // parse_package_and_drive: fewer than two segments, or no package id first
      { path: `/${OWNER}`, action: 'Read' },
      { path: '/not-a-package/drive/file', action: 'Read' },
      { path: '/a:b:c/drive/file', action: 'Read' },
    ]) {
      assert.deepEqual(JSON.parse((await owner.answer(VFS, body)).body), { Err: 'MalformedRequest' }, JSON.stringify(body));
    }
    // serde also reads a unit variant written as {"Read": null}
    assert.equal(JSON.parse((await owner.answer(VFS, { path: `${DATA}/hello.txt`, action: { Read: null } })).body), 'Read');
  });

  it('V2: ReadDir of "/" or of a package lists the VFS for a holder of root only (vfs.rs: "special case for root")', async () => {
    const top = (await vfs(root, '/', 'ReadDir')) as { ReadDir: Array<{ path: string; file_type: string }> };
    assert.ok(top.ReadDir.some((e) => e.path === OWNER && e.file_type === 'Directory'), JSON.stringify(top));
    const drives = (await vfs(root, `/${OWNER}`, 'ReadDir')) as { ReadDir: Array<{ path: string }> };
    const paths = drives.ReadDir.map((e) => e.path);
    for (const drive of ['data', 'pkg']) assert.ok(paths.includes(`${OWNER}/${drive}`), JSON.stringify(paths));
    assert.deepEqual(await vfs(stranger, '/', 'ReadDir'), { Err: 'NoReadCap' });
    assert.deepEqual(await vfs(stranger, `/${OWNER}`, 'ReadDir'), { Err: 'NoReadCap' });
    // root reads and writes any drive
    assert.equal(await vfs(root, `${DATA}/by-root.txt`, 'Write', { blob: 'r' }), 'Ok');
  });

  it('V3: `..` is resolved and may step anywhere inside the VFS, not out of it (vfs.rs normalize_path)', async () => {
    const read = await owner.answer(VFS, { path: `${DATA}/../data/./sub/../hello.txt`, action: 'Read' });
    assert.equal(Buffer.from(read.blob!.base64, 'base64').toString(), 'hello world');
    assert.deepEqual(await vfs(owner, `/${OWNER}/data/../../../x`, 'Read'), { Err: 'MalformedRequest' });
    assert.deepEqual(await vfs(owner, '/../etc/passwd', 'Read'), { Err: 'MalformedRequest' });
    // a path that steps into another package is checked against that package's drive
    assert.deepEqual(await vfs(stranger, `/vfs-stranger:${PUBLISHER}/pkg/../../vfs-owner:${PUBLISHER}/data/hello.txt`, 'Read'), { Err: 'NoReadCap' });
    // empty segments vanish
    assert.equal(JSON.parse((await owner.answer(VFS, { path: `//${OWNER}//data///hello.txt`, action: 'Read' })).body), 'Read');
  });

  it('V4: read actions need the read capability exactly, write actions (OpenFile and CloseFile too) the write one (vfs.rs check_caps)', async () => {
    const f = `${DATA}/hello.txt`;
    // a read capability
    assert.equal(JSON.parse((await reader.answer(VFS, { path: f, action: 'Read' })).body), 'Read');
    for (const action of ['Metadata', 'Len', 'Hash', 'ReadToEnd', { Seek: { Start: 0 } }]) assert.equal('Err' in Object(await vfs(reader, f, action)), false);
    for (const action of [{ OpenFile: { create: false } }, 'CloseFile', 'Write', 'Append', 'SyncAll', { SetLen: 1 }, 'RemoveFile', 'CreateDir'])
      assert.deepEqual(await vfs(reader, f, action), { Err: 'NoWriteCap' }, JSON.stringify(action));
    // a write capability does not let its holder read
    for (const action of ['Read', 'ReadDir', 'Metadata', 'Len', 'Hash', 'ReadToString', { Seek: { Start: 0 } }])
      assert.deepEqual(await vfs(writer, f, action), { Err: 'NoReadCap' }, JSON.stringify(action));
    assert.equal(await vfs(writer, `${DATA}/from-writer.txt`, 'Write', { blob: 'w' }), 'Ok');
    assert.equal(await vfs(writer, f, { OpenFile: { create: false } }), 'Ok');
    assert.equal(await vfs(writer, f, 'CloseFile'), 'Ok');
    // neither
    assert.deepEqual(await vfs(stranger, f, 'Read'), { Err: 'NoReadCap' });
    assert.deepEqual(await vfs(stranger, f, 'Write', { blob: 'x' }), { Err: 'NoWriteCap' });
    assert.deepEqual(await vfs(stranger, `/${OWNER}/newdrive`, 'CreateDrive'), { Err: 'NoWriteCap' });
  });

  it('V4: CopyFile and Rename need write on both drives unless both are our own', async () => {
    const mine = `/vfs-reader:${PUBLISHER}/pkg`;
    assert.equal(await vfs(reader, `${mine}/note.txt`, 'Write', { blob: 'mine' }), 'Ok');
    // read on the source is not enough: write on it is checked first
    assert.deepEqual(await vfs(reader, `${DATA}/hello.txt`, { CopyFile: { new_path: `${mine}/copy.txt` } }), { Err: 'NoWriteCap' });
    // our own drive (the manifest's pkg drive, whose write cap we hold) into one we may only read
    assert.deepEqual(await vfs(reader, `${mine}/note.txt`, { CopyFile: { new_path: `${DATA}/note.txt` } }), { Err: 'NoWriteCap' });
    assert.deepEqual(await vfs(reader, `${mine}/note.txt`, { Rename: { new_path: `${DATA}/note.txt` } }), { Err: 'NoWriteCap' });
    // both our own
    assert.equal(await vfs(reader, `${mine}/note.txt`, { CopyFile: { new_path: `${mine}/note2.txt` } }), 'Ok');
    assert.equal(await vfs(reader, `${mine}/note2.txt`, { Rename: { new_path: `${mine}/note3.txt` } }), 'Ok');
    // write on both
    assert.equal(await vfs(writer, `${DATA}/from-writer.txt`, { Rename: { new_path: `${DATA}/renamed.txt` } }), 'Ok');
    assert.deepEqual(await vfs(writer, `${DATA}/renamed.txt`, { CopyFile: { new_path: `/vfs-writer:${PUBLISHER}/pkg/copy.txt` } }), 'Ok');
  });

  it('V5: a success echoes the request metadata and Read blobs are application/octet-stream; errors carry none (vfs.rs)', async () => {
    const read = await owner.answer(VFS, { path: `${DATA}/hello.txt`, action: 'Read' }, { metadata: 'm-1' });
    assert.equal(read.metadata, 'm-1');
    assert.equal(read.blob?.mime, 'application/octet-stream');
    const ok = await owner.answer(VFS, { path: `${DATA}/m.txt`, action: 'Write' }, { blob: 'x', metadata: 'm-2' });
    assert.equal(ok.metadata, 'm-2');
    assert.equal(ok.blob, null);
    const err = await owner.answer(VFS, { path: `${DATA}/missing.txt`, action: 'Read' }, { metadata: 'm-3' });
    assert.equal(err.metadata, null);
  });

  it('V6: a file has one cursor shared by every process (Files::open_file keeps one handle per path)', async () => {
    const f = `${DATA}/cursor.txt`;
    assert.equal(await vfs(owner, f, 'Write', { blob: '0123456789' }), 'Ok');
    assert.equal(await vfs(owner, f, { OpenFile: { create: false } }), 'Ok');
    assert.deepEqual(await vfs(owner, f, { Seek: { Start: 4 } }), { SeekFrom: { new_offset: 4 } });
    const rest = await twin.answer(VFS, { path: f, action: 'ReadToEnd' });
    assert.equal(Buffer.from(rest.blob!.base64, 'base64').toString(), '456789', 'the twin reads from where main left the cursor');
    assert.deepEqual(await vfs(owner, f, { Seek: { Current: -2 } }), { SeekFrom: { new_offset: 8 } });
    // Hash reads the shared handle to its end
    await vfs(twin, f, 'Hash');
    assert.deepEqual(await vfs(owner, f, { Seek: { Current: 0 } }), { SeekFrom: { new_offset: 10 } });
    // OpenFile puts the cursor back at 0 for everyone; CloseFile drops the handle
    await vfs(twin, f, { OpenFile: { create: false } });
    assert.deepEqual(await vfs(owner, f, { ReadExact: { length: 2 } }), 'Read');
    assert.equal(await vfs(owner, f, 'CloseFile'), 'Ok');
    assert.deepEqual(await vfs(twin, f, { Seek: { Current: 0 } }), { SeekFrom: { new_offset: 0 } });
    // lseek refuses a negative position with EINVAL
    assert.deepEqual(await vfs(owner, f, { Seek: { End: -11 } }), { Err: { IOError: 'Invalid argument (os error 22)' } });
  });

  it('AddZip unpacks into the folder; CreateDirAll, RemoveDirAll and RemoveFile as std::fs', async () => {
    const zip = zipEntries([
      { path: 'dir/', bytes: new Uint8Array(), isDir: true },
      { path: 'dir/a.txt', bytes: new TextEncoder().encode('A'), isDir: false },
      { path: 'b.txt', bytes: new TextEncoder().encode('B'), isDir: false },
    ]);
    assert.equal(await vfs(owner, `${DATA}/zipped`, 'AddZip', { blob: zip }), 'Ok');
    const a = await owner.answer(VFS, { path: `${DATA}/zipped/dir/a.txt`, action: 'Read' });
    assert.equal(Buffer.from(a.blob!.base64, 'base64').toString(), 'A');
    assert.equal(await vfs(owner, `${DATA}/deep/er/est`, 'CreateDirAll'), 'Ok');
    assert.equal(await vfs(owner, `${DATA}/deep/er/est`, 'CreateDirAll'), 'Ok', 'an existing directory is fine');
    assert.deepEqual(await vfs(owner, `${DATA}/zipped/b.txt`, 'RemoveDirAll'), { Err: { IOError: 'Not a directory (os error 20)' } });
    assert.deepEqual(await vfs(owner, `${DATA}/zipped`, 'RemoveFile'), { Err: { IOError: 'Is a directory (os error 21)' } });
    assert.equal(await vfs(owner, `${DATA}/zipped`, 'RemoveDirAll'), 'Ok');
    assert.deepEqual(await vfs(owner, `${DATA}/zipped/b.txt`, 'Metadata'), { Err: { IOError: 'No such file or directory (os error 2)' } });
  });

  it('answers nothing to a caller that awaits nothing, and keeps serving after any bad input', async () => {
    const r = await stranger.send(VFS, { path: `${DATA}/hello.txt`, action: 'Read' }, { timeout: null });
    assert.deepEqual(r, { sent: true });
    for (const body of ['', '[]', 'null', '{"path": null, "action": null}', '\u0000\u0001', '{"path": "/a:b/c/\\u0000", "action": "Read"}'])
      await owner.send(VFS, body);
    assert.equal(JSON.parse((await owner.answer(VFS, { path: `${DATA}/hello.txt`, action: 'Len' })).body).Len, 11);
    assert.deepEqual(await stranger.inbox(), [], 'neither an answer nor an error came back');
  });
});
