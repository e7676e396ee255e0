// vfs:distro:sys — the node's file system, answering as Hyperdrive's does (hyperdrive/src/vfs.rs,
// lib/src/vfs.rs). Drives live under `<home>/vfs/<package>:<publisher>/<drive>/`. A process may do
// anything in its own package's drives; elsewhere it needs the drive's read capability (read
// actions), its write capability (the rest), or the root capability, all issued by this module;
// only kernel:distro:sys goes unchecked. A file has one cursor, shared by every process, as the
// one handle Hyperdrive keeps per path. Only requests from our node are served, one at a time (so
// that a process's fire-and-forget writes land in the order it sent them).

import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { copyFile, type FileHandle, lstat, mkdir, open, readdir, readFile, realpath, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { parseJsonExact } from '../../../core/json.js';
import { unzipAsync, type ZipLimits, ZipFormatError, ZipPathError } from '../../../core/zip.js';
import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import { fromFdManager, requestFdsLimit } from '../fd-manager/limiter.js';
import type { Logger } from '../../../core/log.js';
import {
  type Address,
  type Capability,
  fromUtf8,
  type KernelMessage,
  type LazyLoadBlob,
  type ProcessId,
  processIdToString,
  systemProcess,
} from '../../../core/types.js';
import { confine, inside, normalizeSegments, parseVfsPath, type VfsPath } from './paths.js';
import { accessOf, ioFailure, parseAction, type VfsAction, VfsFailure, vfsErr } from './types.js';

export { parseVfsPath, type VfsPath } from './paths.js';
export { isNotFoundError, type SeekFrom, type VfsAction, type VfsErrorJson, VfsFailure } from './types.js';

export const VFS_PROCESS: ProcessId = systemProcess('vfs');
const KERNEL = 'kernel:distro:sys';
/** The mime Hyperdrive puts on every blob it answers with. */
const OCTET_STREAM = 'application/octet-stream';

/** Capability params for a drive: `{"kind":"read"|"write","drive":"/pkg:pub/drive"}`. */
export function driveCapParams(kind: 'read' | 'write', drivePath: string): string {
  return JSON.stringify({ kind, drive: drivePath });
}

export const ROOT_CAP_PARAMS = JSON.stringify({ root: true });

export interface VfsOptions {
  /** Node home; drives go under `<home>/vfs/`. */
  home: string;
  /** How far an AddZip may expand (default DEFAULT_ZIP_LIMITS). */
  zipLimits?: ZipLimits;
}

interface Outcome {
  body: unknown;
  bytes?: Uint8Array;
}

function fileType(s: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }) {
  if (s.isFile()) return 'File';
  if (s.isDirectory()) return 'Directory';
  if (s.isSymbolicLink()) return 'Symlink';
  return 'Other';
}

/** Open flags of Hyperdrive's Files::open_file: always read and write, create/truncate as asked. */
function openFlags(create: boolean, truncate: boolean): number {
  return fsc.O_RDWR | (create ? fsc.O_CREAT : 0) | (truncate ? fsc.O_TRUNC : 0);
}

/** A u64 position as a JS number; past 2^53 no file on this machine reaches, so EFBIG/EINVAL as Linux would. */
function position(n: bigint, errno: 'EFBIG' | 'EINVAL'): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw vfsErr.io(errno);
  return Number(n);
}

export function createVfs(opts: VfsOptions): NativeProcess {
  return new Vfs(opts.home, opts.zipLimits);
}

class Vfs implements NativeProcess {
  readonly id = VFS_PROCESS;
  private kernel!: KernelApi;
  private log!: Logger;
  private readonly root: string;
  private realRoot = '';
  /** The cursor of each file (by absolute path): one per file, as Hyperdrive's one handle per path. */
  private readonly cursors = new Map<string, number>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    home: string,
    private readonly zipLimits?: ZipLimits,
  ) {
    this.root = join(home, 'vfs');
  }

  async start(kernel: KernelApi): Promise<void> {
    this.kernel = kernel;
    this.log = kernel.log.child('vfs');
    await mkdir(this.root, { recursive: true });
    this.realRoot = await realpath(this.root);
    // Registered as Hyperdrive's vfs is (vfs.rs), so fd-manager splits the budget as there. Its
    // share goes unused: this vfs opens a file per request and keeps no handles.
    requestFdsLimit(kernel, VFS_PROCESS);
  }

  handle(km: KernelMessage): Promise<void> {
    if (km.message.tag !== 'request' || fromFdManager(km, this.kernel.our)) return Promise.resolve();
    if (km.source.node !== this.kernel.our) {
      this.kernel.print(1, `vfs: got request from ${km.source.node}, but requests must come from our node ${this.kernel.our}`);
      return Promise.resolve();
    }
    const next = this.queue.then(() => this.serve(km));
    this.queue = next.catch(() => {});
    return next;
  }

  stop(): void {
    this.cursors.clear();
  }

  private async serve(km: KernelMessage): Promise<void> {
    if (km.message.tag !== 'request') return;
    const req = km.message.val;
    let outcome: Outcome;
    try {
      outcome = await this.perform(km);
    } catch (e) {
      const failure = e instanceof VfsFailure ? e : ioFailure(e);
      this.log.debug(`vfs request from ${processIdToString(km.source.process)} failed: ${failure.message}`);
      // Errors go back only to a caller that waits for them, without metadata (vfs.rs).
      if (req.expectsResponse !== undefined) this.kernel.respond(this.id, km, JSON.stringify({ Err: failure.json }));
      return;
    }
    if (req.expectsResponse === undefined && !km.rsvp) return;
    const blob: LazyLoadBlob | undefined = outcome.bytes && { mime: OCTET_STREAM, bytes: outcome.bytes };
    this.kernel.respond(this.id, km, JSON.stringify(outcome.body), blob, req.metadata);
  }

  // ---- capabilities -----------------------------------------------------------------------

  private issuer(): Address {
    return { node: this.kernel.our, process: this.id };
  }

  private holds(source: ProcessId, params: string): boolean {
    return this.kernel.hasCapability(source, { issuer: this.issuer(), params });
  }

  private isRoot(source: ProcessId): boolean {
    return processIdToString(source) === KERNEL || this.holds(source, ROOT_CAP_PARAMS);
  }

  /** `kind` on the drive, or root; else NoReadCap / NoWriteCap. */
  private need(source: ProcessId, kind: 'read' | 'write', drivePath: string): void {
    if (this.holds(source, driveCapParams(kind, drivePath)) || this.holds(source, ROOT_CAP_PARAMS)) return;
    throw kind === 'read' ? vfsErr.noReadCap() : vfsErr.noWriteCap();
  }

  /** hyperdrive/src/vfs.rs check_caps, action by action. */
  private check(source: ProcessId, action: VfsAction, p: VfsPath): VfsPath | undefined {
    const own = (path: VfsPath) => `${source.packageName}:${source.publisherNode}` === path.packageId;
    const access = accessOf(action);
    if (access === 'two-drives') {
      const dest = parseVfsPath(this.root, (action as { newPath: string }).newPath);
      if (processIdToString(source) === KERNEL || (own(p) && own(dest))) return dest;
      if (this.holds(source, ROOT_CAP_PARAMS)) return dest;
      this.need(source, 'write', p.drivePath);
      if (dest.drivePath !== p.drivePath) this.need(source, 'write', dest.drivePath);
      return dest;
    }
    if (processIdToString(source) === KERNEL) return undefined;
    if (access === 'create-drive') {
      if (!own(p) && !this.holds(source, ROOT_CAP_PARAMS)) throw vfsErr.noWriteCap();
      this.grantDrive(source, p.drivePath);
      return undefined;
    }
    if (!own(p)) this.need(source, access, p.drivePath);
    return undefined;
  }

  /** Give the creator of a drive read and write on it, through the kernel. */
  private grantDrive(target: ProcessId, drivePath: string): void {
    const caps: Capability[] = (['read', 'write'] as const).map((k) => ({ issuer: this.issuer(), params: driveCapParams(k, drivePath) }));
    const body = {
      GrantCapabilities: {
        target: processIdToString(target),
        capabilities: caps.map((c) => ({ issuer: `${c.issuer.node}@${processIdToString(c.issuer.process)}`, params: c.params })),
      },
    };
    this.kernel.tell(this.id, { node: this.kernel.our, process: systemProcess('kernel') }, JSON.stringify(body));
  }

  // ---- requests -----------------------------------------------------------------------------

  private async perform(km: KernelMessage): Promise<Outcome> {
    if (km.message.tag !== 'request') throw vfsErr.malformed();
    let req: { path?: unknown; action?: unknown };
    try {
      req = parseJsonExact(fromUtf8(km.message.val.body)) as typeof req;
    } catch {
      throw vfsErr.malformed();
    }
    if (!req || typeof req !== 'object' || Array.isArray(req) || typeof req.path !== 'string') throw vfsErr.malformed();
    const action = parseAction(req.action);
    const source = km.source.process;

    let p: VfsPath | undefined;
    try {
      p = parseVfsPath(this.root, req.path);
    } catch (e) {
      if (action.kind !== 'ReadDir') throw e;
    }
    // ReadDir of "/" (or of anything that is not a drive path) lists the VFS itself, for root only.
    if (action.kind === 'ReadDir' && (req.path === '/' || !p)) {
      if (!this.isRoot(source)) throw vfsErr.noReadCap();
      return this.readDir(join(this.root, ...normalizeSegments(req.path)));
    }
    if (!p) throw vfsErr.malformed();

    const dest = this.check(source, action, p);
    await confine(action.kind === 'CreateDrive' ? { ...p, abs: p.driveAbs } : p, this.realRoot);
    if (dest) await confine(dest, this.realRoot);
    try {
      return await this.act(action, p, km.lazyLoadBlob?.bytes, dest);
    } catch (e) {
      throw ioFailure(e);
    }
  }

  private dropCursors(p: VfsPath): void {
    for (const file of this.cursors.keys()) if (inside(file, p.abs)) this.cursors.delete(file);
  }

  /** Hyperdrive's Files::open_file: the file opened read-write (errors as the OS gives them), at its cursor. */
  private async withFile<T>(p: VfsPath, use: (fh: FileHandle, at: number) => Promise<T>, create = false, truncate = false): Promise<T> {
    const fh = await open(p.abs, openFlags(create, truncate));
    try {
      return await use(fh, this.cursors.get(p.abs) ?? 0);
    } finally {
      await fh.close();
    }
  }

  private async readAt(fh: FileHandle, at: number, length: number): Promise<Uint8Array> {
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await fh.read(buf, got, length - got, at + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  }

  private async readDir(dir: string): Promise<Outcome> {
    const entries = await readdir(dir, { withFileTypes: true });
    return {
      body: {
        ReadDir: entries
          .map((d) => ({ path: relative(this.root, join(dir, d.name)).split(sep).join('/'), file_type: fileType(d) }))
          .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
      },
    };
  }

  private async act(action: VfsAction, p: VfsPath, blob: Uint8Array | undefined, dest: VfsPath | undefined): Promise<Outcome> {
    const needBlob = (): Uint8Array => {
      if (!blob) throw vfsErr.noBlob();
      return blob;
    };
    const ok = { body: 'Ok' };
    switch (action.kind) {
      case 'CreateDrive':
        await mkdir(p.driveAbs, { recursive: true });
        return ok;
      case 'CreateDir':
        await mkdir(p.abs);
        return ok;
      case 'CreateDirAll':
        await mkdir(p.abs, { recursive: true });
        return ok;
      case 'CreateFile':
        // A new handle: the file is truncated and its cursor starts at 0.
        this.cursors.delete(p.abs);
        await this.withFile(p, async () => {}, true, true);
        return ok;
      case 'OpenFile':
        await this.withFile(p, async () => {}, action.create);
        this.cursors.set(p.abs, 0);
        return ok;
      case 'CloseFile':
        this.cursors.delete(p.abs);
        return ok;
      case 'Write':
        await writeFile(p.abs, needBlob());
        return ok;
      case 'WriteAll': {
        const bytes = needBlob();
        await this.withFile(p, async (fh, at) => {
          await fh.write(bytes, 0, bytes.length, at);
          this.cursors.set(p.abs, at + bytes.length);
        });
        return ok;
      }
      case 'Append': {
        const bytes = needBlob();
        await this.withFile(p, async (fh) => {
          const end = (await fh.stat()).size;
          await fh.write(bytes, 0, bytes.length, end);
          this.cursors.set(p.abs, end + bytes.length);
        });
        return ok;
      }
      case 'SyncAll':
        await this.withFile(p, (fh) => fh.sync());
        return ok;
      case 'Read':
        return { body: 'Read', bytes: new Uint8Array(await readFile(p.abs)) };
      case 'ReadToEnd':
      case 'ReadToString': {
        const bytes = await this.withFile(p, async (fh, at) => {
          const size = (await fh.stat()).size;
          const got = await this.readAt(fh, at, Math.max(0, size - at));
          this.cursors.set(p.abs, at + got.length);
          return got;
        });
        if (action.kind === 'ReadToEnd') return { body: 'Read', bytes };
        try {
          return { body: { ReadToString: new TextDecoder('utf-8', { fatal: true }).decode(bytes) } };
        } catch {
          throw vfsErr.io('stream did not contain valid UTF-8');
        }
      }
      case 'ReadExact':
        return this.withFile(p, async (fh, at) => {
          const size = (await fh.stat()).size;
          // Check before allocating: a huge length must not take the node's memory (Hyperdrive
          // allocates it first). Like read_exact, a short read leaves the cursor at the end.
          if (BigInt(at) + action.length > BigInt(size)) {
            this.cursors.set(p.abs, Math.max(at, size));
            throw vfsErr.io('failed to fill whole buffer');
          }
          const length = Number(action.length);
          const bytes = await this.readAt(fh, at, length);
          this.cursors.set(p.abs, at + bytes.length);
          if (bytes.length < length) throw vfsErr.io('failed to fill whole buffer');
          return { body: 'Read', bytes };
        });
      case 'Seek':
        return this.withFile(p, async (fh, at) => {
          const s = action.seek;
          const base = 'Start' in s ? 0n : 'End' in s ? BigInt((await fh.stat()).size) : BigInt(at);
          const next = base + ('Start' in s ? s.Start : 'End' in s ? s.End : s.Current);
          // lseek refuses a negative offset (and one past i64) with EINVAL.
          if (next < 0n || next >= 1n << 63n) throw vfsErr.io('EINVAL');
          this.cursors.set(p.abs, position(next, 'EINVAL'));
          return { body: { SeekFrom: { new_offset: Number(next) } } };
        });
      case 'ReadDir':
        return this.readDir(p.abs);
      case 'RemoveFile':
        await unlink(p.abs);
        this.cursors.delete(p.abs);
        return ok;
      case 'RemoveDir':
        await rmdir(p.abs);
        this.dropCursors(p);
        return ok;
      case 'RemoveDirAll': {
        // Rust's remove_dir_all: a symlink goes itself, a file is ENOTDIR.
        const s = await lstat(p.abs);
        if (s.isSymbolicLink()) await unlink(p.abs);
        else if (!s.isDirectory()) throw vfsErr.io('ENOTDIR');
        else await rm(p.abs, { recursive: true });
        this.dropCursors(p);
        return ok;
      }
      case 'Rename':
        await rename(p.abs, dest!.abs);
        this.dropCursors(p);
        return ok;
      case 'CopyFile': {
        if (!(await stat(p.abs)).isFile()) throw vfsErr.io('the source path is neither a regular file nor a symlink to a regular file');
        await copyFile(p.abs, dest!.abs);
        return ok;
      }
      case 'Metadata': {
        const s = await stat(p.abs); // fs::metadata follows symlinks (within the drive, see confine)
        return { body: { Metadata: { file_type: fileType(s), len: s.size } } };
      }
      case 'Len':
        return this.withFile(p, async (fh) => ({ body: { Len: (await fh.stat()).size } }));
      case 'SetLen':
        await this.withFile(p, (fh) => fh.truncate(position(action.length, 'EFBIG')));
        return ok;
      case 'Hash':
        return this.withFile(p, async (fh) => {
          const size = (await fh.stat()).size;
          const digest = createHash('sha256')
            .update(await this.readAt(fh, 0, size))
            .digest();
          this.cursors.set(p.abs, size); // Hyperdrive's Hash reads the shared handle to the end
          return { body: { Hash: [...digest] } };
        });
      case 'AddZip':
        await this.addZip(p, needBlob());
        return ok;
    }
  }

  /** Unpack a zip into the folder at `p`; every entry is checked before anything is written. */
  private async addZip(p: VfsPath, zip: Uint8Array): Promise<void> {
    let entries: Awaited<ReturnType<typeof unzipAsync>>;
    try {
      entries = await unzipAsync(zip, this.zipLimits);
    } catch (e) {
      // Hyperdrive answers an unreadable zip ParseError { error, path } (its path is the file on disk).
      if (e instanceof ZipFormatError) throw vfsErr.parse(p.vfs, `invalid Zip archive: ${e.message}`);
      if (e instanceof ZipPathError) throw vfsErr.parse(p.vfs, `${e.message} (kit's node refuses a zip entry that leaves the folder)`);
      throw e;
    }
    await mkdir(p.abs, { recursive: true });
    const bound = await realpath(p.driveAbs);
    for (const entry of entries) {
      const target = join(p.abs, entry.path);
      const dir = entry.isDir ? target : dirname(target);
      await mkdir(dir, { recursive: true });
      // A symlink already in the drive must not carry an entry outside it.
      if (!inside(await realpath(dir), bound))
        throw vfsErr.parse(p.vfs, `zip entry '${entry.path}' would land outside the drive through a symlink`);
      if (entry.isDir) continue;
      const existing = await lstat(target).catch(() => undefined);
      if (existing?.isSymbolicLink()) await unlink(target);
      await writeFile(target, entry.bytes);
    }
  }
}
