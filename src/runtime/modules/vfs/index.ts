// vfs:distro:sys — the node's file system (book: Files, VFS API; interop §10.7). Drives live
// under `<home>/vfs/<package>:<publisher>/<drive>/`. A process may do anything in its own
// package's drives; elsewhere it needs a read or write capability on the drive, or the root
// capability, all issued by this module. Only requests from our node are served, one at a time
// (so that a process's fire-and-forget writes land in the order it sent them).

import { createHash } from 'node:crypto';
import {
  appendFile,
  copyFile,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  rmdir,
  stat,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { unzipAsync, type ZipLimits, ZipFormatError, ZipPathError } from '../../../core/zip.js';
import type { KernelApi, NativeProcess } from '../../kernel/api.js';
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
import { confine, parseVfsPath, type VfsPath } from './paths.js';
import { accessOf, parseAction, type VfsAction, VfsFailure, vfsErr } from './types.js';

export { parseVfsPath, type VfsPath } from './paths.js';
export { type SeekFrom, type VfsAction, type VfsErrorJson, VfsFailure } from './types.js';

export const VFS_PROCESS: ProcessId = systemProcess('vfs');

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
  blob?: LazyLoadBlob;
}

const ERRNO_TEXT: Record<string, string> = {
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EEXIST: 'already exists',
  ENOTEMPTY: 'directory not empty',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EXDEV: 'cannot move across devices',
};

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'not found';
  return code ? (ERRNO_TEXT[code] ?? code) : e instanceof Error ? e.message : String(e);
}

/** Turn a file-system error into the VFS error a caller sees (never the on-disk path). */
function fsFailure(e: unknown, vfs: string): VfsFailure {
  if (e instanceof VfsFailure) return e;
  if ((e as NodeJS.ErrnoException)?.code === 'ENOENT') return vfsErr.notFound(vfs);
  return vfsErr.io(vfs, errnoText(e));
}

function createDirFailure(e: unknown, vfs: string): VfsFailure {
  const missingParent = (e as NodeJS.ErrnoException)?.code === 'ENOENT';
  return vfsErr.createDir(vfs, missingParent ? 'the parent directory does not exist; use CreateDirAll' : errnoText(e));
}

function fileType(s: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }) {
  if (s.isFile()) return 'File';
  if (s.isDirectory()) return 'Directory';
  if (s.isSymbolicLink()) return 'Symlink';
  return 'Other';
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
  /** Open-file cursors, per (process, file). */
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
  }

  handle(km: KernelMessage): Promise<void> {
    if (km.message.tag !== 'request' || km.source.node !== this.kernel.our) return Promise.resolve();
    const next = this.queue.then(() => this.serve(km));
    this.queue = next.catch(() => {});
    return next;
  }

  stop(): void {
    this.cursors.clear();
  }

  private async serve(km: KernelMessage): Promise<void> {
    if (km.message.tag !== 'request') return;
    const expects = km.message.val.expectsResponse !== undefined;
    let outcome: Outcome;
    try {
      outcome = await this.perform(km);
    } catch (e) {
      const failure = e instanceof VfsFailure ? e : new VfsFailure({ Other: { error: e instanceof Error ? e.message : String(e) } });
      this.log.debug(`vfs request from ${processIdToString(km.source.process)} failed: ${failure.message}`);
      // Errors go back only to a caller that waits for them.
      if (expects) this.kernel.respond(this.id, km, JSON.stringify({ Err: failure.json }));
      return;
    }
    if (expects || km.rsvp) this.kernel.respond(this.id, km, JSON.stringify(outcome.body), outcome.blob);
  }

  // ---- capabilities -----------------------------------------------------------------------

  private issuer(): Address {
    return { node: this.kernel.our, process: this.id };
  }

  private holds(source: ProcessId, params: string): boolean {
    return this.kernel.hasCapability(source, { issuer: this.issuer(), params });
  }

  private isRoot(source: ProcessId): boolean {
    // Runtime modules (the kernel, http-server's RPC, ...) act for the node itself.
    if (source.packageName === 'distro' && source.publisherNode === 'sys') return true;
    return this.holds(source, ROOT_CAP_PARAMS);
  }

  private check(source: ProcessId, p: VfsPath, access: 'read' | 'write', action: string): void {
    if (`${source.packageName}:${source.publisherNode}` === p.packageId) return;
    if (this.isRoot(source)) return;
    if (this.holds(source, driveCapParams('write', p.drivePath))) return;
    if (access === 'read' && this.holds(source, driveCapParams('read', p.drivePath))) return;
    throw vfsErr.noCap(action, p.vfs);
  }

  /** Give the creator of a drive read and write on it, through the kernel (interop §10.4). */
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
    if (km.message.tag !== 'request') throw vfsErr.badRequest('not a request');
    let req: { path?: unknown; action?: unknown };
    try {
      req = JSON.parse(fromUtf8(km.message.val.body));
    } catch (e) {
      throw vfsErr.badJson(`body is not JSON: ${(e as Error).message}; expected {"path": "/pkg:pub/drive/file", "action": ...}`);
    }
    if (!req || typeof req !== 'object' || typeof req.path !== 'string' || req.action === undefined)
      throw vfsErr.badJson('expected {"path": "/pkg:pub/drive/file", "action": ...}');
    const action = parseAction(req.action);
    const p = parseVfsPath(this.root, req.path);
    const source = km.source.process;
    const blob = km.lazyLoadBlob?.bytes;

    if (action.kind === 'CreateDrive') {
      if (`${source.packageName}:${source.publisherNode}` !== p.packageId && !this.isRoot(source))
        throw vfsErr.noCap('CreateDrive', p.drivePath);
      await confine({ ...p, abs: p.driveAbs }, this.realRoot);
      await mkdir(p.driveAbs, { recursive: true }).catch((e) => {
        throw createDirFailure(e, p.drivePath);
      });
      this.grantDrive(source, p.drivePath);
      return { body: 'Ok' };
    }

    this.check(source, p, accessOf(action), action.kind);
    await confine(p, this.realRoot);
    let dest: VfsPath | undefined;
    if (action.kind === 'Rename' || action.kind === 'CopyFile') {
      dest = parseVfsPath(this.root, action.newPath);
      this.check(source, dest, 'write', action.kind);
      await confine(dest, this.realRoot);
    }
    try {
      return await this.act(action, p, source, blob, dest);
    } catch (e) {
      throw fsFailure(e, p.vfs);
    }
  }

  private cursorKey(source: ProcessId, p: VfsPath): string {
    return `${processIdToString(source)}\0${p.abs}`;
  }

  private dropCursors(p: VfsPath): void {
    for (const k of this.cursors.keys()) {
      const file = k.slice(k.indexOf('\0') + 1);
      if (file === p.abs || file.startsWith(p.abs + sep)) this.cursors.delete(k);
    }
  }

  private async fileSize(p: VfsPath): Promise<number> {
    const s = await stat(p.abs);
    if (s.isDirectory()) throw vfsErr.io(p.vfs, 'is a directory');
    return s.size;
  }

  private async readAt(p: VfsPath, position: number, length: number): Promise<Uint8Array> {
    const fh = await open(p.abs, 'r');
    try {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, position + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buf.subarray(0, got);
    } finally {
      await fh.close();
    }
  }

  private async act(
    action: VfsAction,
    p: VfsPath,
    source: ProcessId,
    blob: Uint8Array | undefined,
    dest: VfsPath | undefined,
  ): Promise<Outcome> {
    const key = this.cursorKey(source, p);
    const needBlob = (): Uint8Array => {
      if (!blob) throw vfsErr.badBytes(action.kind, p.vfs);
      return blob;
    };
    switch (action.kind) {
      case 'CreateDrive':
        throw vfsErr.badRequest('unreachable');
      case 'CreateDir':
      case 'CreateDirAll':
        await mkdir(p.abs, { recursive: action.kind === 'CreateDirAll' }).catch((e) => {
          throw createDirFailure(e, p.vfs);
        });
        return { body: 'Ok' };
      case 'CreateFile':
        await writeFile(p.abs, new Uint8Array(0));
        this.cursors.set(key, 0);
        return { body: 'Ok' };
      case 'OpenFile': {
        const s = await stat(p.abs).catch(() => undefined);
        if (s?.isDirectory()) throw vfsErr.io(p.vfs, 'is a directory');
        if (!s) {
          if (!action.create) throw vfsErr.notFound(p.vfs);
          await appendFile(p.abs, new Uint8Array(0)); // create, never truncate
        }
        this.cursors.set(key, 0);
        return { body: 'Ok' };
      }
      case 'CloseFile':
        this.cursors.delete(key);
        return { body: 'Ok' };
      case 'Write':
        await writeFile(p.abs, needBlob());
        return { body: 'Ok' };
      case 'WriteAll': {
        const bytes = needBlob();
        const at = this.cursors.get(key) ?? 0;
        const fh = await open(p.abs, 'r+');
        try {
          await fh.write(bytes, 0, bytes.length, at);
        } finally {
          await fh.close();
        }
        this.cursors.set(key, at + bytes.length);
        return { body: 'Ok' };
      }
      case 'Append': {
        const bytes = needBlob();
        await this.fileSize(p); // must exist and be a file
        await appendFile(p.abs, bytes);
        this.cursors.set(key, await this.fileSize(p));
        return { body: 'Ok' };
      }
      case 'SyncAll': {
        await this.fileSize(p);
        const fh = await open(p.abs, 'r+');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
        return { body: 'Ok' };
      }
      case 'Read': {
        await this.fileSize(p);
        return { body: 'Read', blob: { bytes: new Uint8Array(await readFile(p.abs)) } };
      }
      case 'ReadToEnd':
      case 'ReadToString': {
        const size = await this.fileSize(p);
        const at = Math.min(this.cursors.get(key) ?? 0, size);
        const bytes = await this.readAt(p, at, size - at);
        this.cursors.set(key, at + bytes.length);
        if (action.kind === 'ReadToEnd') return { body: 'Read', blob: { bytes } };
        try {
          return { body: { ReadToString: new TextDecoder('utf-8', { fatal: true }).decode(bytes) } };
        } catch {
          throw vfsErr.io(p.vfs, 'stream did not contain valid UTF-8');
        }
      }
      case 'ReadExact': {
        const size = await this.fileSize(p);
        const at = this.cursors.get(key) ?? 0;
        // Check before allocating: a huge length must not take the node's memory.
        if (at + action.length > size)
          throw vfsErr.io(p.vfs, `failed to fill whole buffer: wanted ${action.length} bytes at offset ${at}, the file has ${size}`);
        const bytes = await this.readAt(p, at, action.length);
        if (bytes.length < action.length) throw vfsErr.io(p.vfs, 'failed to fill whole buffer: the file shrank while reading');
        this.cursors.set(key, at + bytes.length);
        return { body: 'Read', blob: { bytes } };
      }
      case 'Seek': {
        const size = await this.fileSize(p);
        const at = this.cursors.get(key) ?? 0;
        const s = action.seek;
        const next = 'Start' in s ? s.Start : 'End' in s ? size + s.End : at + s.Current;
        if (next < 0) throw vfsErr.io(p.vfs, 'invalid seek to a negative position');
        this.cursors.set(key, next);
        return { body: { SeekFrom: { new_offset: next } } };
      }
      case 'ReadDir': {
        const entries = await readdir(p.abs, { withFileTypes: true });
        const base = p.vfs.slice(1);
        return {
          body: {
            ReadDir: entries
              .map((d) => ({ path: `${base}/${d.name}`, file_type: fileType(d) }))
              .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
          },
        };
      }
      case 'RemoveFile': {
        const s = await lstat(p.abs);
        if (s.isDirectory()) throw vfsErr.io(p.vfs, 'is a directory; use RemoveDir or RemoveDirAll');
        await unlink(p.abs);
        this.dropCursors(p);
        return { body: 'Ok' };
      }
      case 'RemoveDir':
        await rmdir(p.abs);
        this.dropCursors(p);
        return { body: 'Ok' };
      case 'RemoveDirAll': {
        const s = await lstat(p.abs);
        if (!s.isDirectory()) throw vfsErr.io(p.vfs, 'not a directory; use RemoveFile');
        await rm(p.abs, { recursive: true });
        this.dropCursors(p);
        return { body: 'Ok' };
      }
      case 'Rename':
        await rename(p.abs, dest!.abs);
        this.dropCursors(p);
        return { body: 'Ok' };
      case 'CopyFile':
        await this.fileSize(p);
        await copyFile(p.abs, dest!.abs);
        return { body: 'Ok' };
      case 'Metadata': {
        const s = await lstat(p.abs);
        return { body: { Metadata: { file_type: fileType(s), len: s.size } } };
      }
      case 'Len':
        return { body: { Len: await this.fileSize(p) } };
      case 'SetLen':
        await this.fileSize(p);
        await truncate(p.abs, action.length);
        return { body: 'Ok' };
      case 'Hash': {
        await this.fileSize(p);
        const digest = createHash('sha256').update(await readFile(p.abs)).digest();
        return { body: { Hash: [...digest] } };
      }
      case 'AddZip':
        await this.addZip(p, needBlob());
        return { body: 'Ok' };
    }
  }

  /** Unpack a zip into the folder at `p`; every entry is checked before anything is written. */
  private async addZip(p: VfsPath, zip: Uint8Array): Promise<void> {
    let entries: Awaited<ReturnType<typeof unzipAsync>>;
    try {
      entries = await unzipAsync(zip, this.zipLimits);
    } catch (e) {
      if (e instanceof ZipPathError || e instanceof ZipFormatError) throw vfsErr.badRequest(`AddZip at ${p.vfs}: ${e.message}`);
      throw e;
    }
    await mkdir(p.abs, { recursive: true });
    const bound = await realpath(p.driveAbs);
    for (const entry of entries) {
      const target = join(p.abs, entry.path);
      const dir = entry.isDir ? target : dirname(target);
      await mkdir(dir, { recursive: true });
      // A symlink already in the drive must not carry an entry outside it.
      const realDir = await realpath(dir);
      if (realDir !== bound && !realDir.startsWith(bound + sep))
        throw vfsErr.parse(p.vfs, `zip entry '${entry.path}' would land outside the drive through a symlink`);
      if (entry.isDir) continue;
      const existing = await lstat(target).catch(() => undefined);
      if (existing?.isSymbolicLink()) await unlink(target);
      await writeFile(target, entry.bytes);
    }
  }
}
