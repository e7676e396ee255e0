// Client for `vfs:distro:sys`, in the shapes Hyperdrive uses (lib/src/vfs.rs; the book's VFS API
// page is out of date). Paths are `/<package>:<publisher>/<drive>/<rest>` (the leading '/' is
// optional; `..` may step up within the VFS). A process may use the drives of its own package
// freely; on other drives read actions need `{"kind": "read", "drive": "/pkg:pub/drive"}` from vfs
// and every other action (OpenFile and CloseFile too) `{"kind": "write", ...}`. A file has one
// cursor, shared by every process that uses it.

import type { PackageId } from '../../core/types.js';
import { VfsError } from '../errors.js';
import { packageIdToString } from '../ids.js';
import { fromUtf8 } from '../json.js';
import { type CallOptions, callModule, describeVariant, expectUnit, expectVariant } from './call.js';

/** u64 / i64 offsets: a number, or a bigint past 2^53. */
export type SeekFrom = { Start: number | bigint } | { End: number | bigint } | { Current: number | bigint };

export type VfsAction =
  | 'CreateDrive'
  | 'CreateDir'
  | 'CreateDirAll'
  | 'CreateFile'
  | { OpenFile: { create: boolean } }
  | 'CloseFile'
  | 'Write'
  | 'WriteAll'
  | 'Append'
  | 'SyncAll'
  | 'Read'
  | 'ReadDir'
  | 'ReadToEnd'
  | { ReadExact: { length: number | bigint } }
  | 'ReadToString'
  | { Seek: SeekFrom }
  | 'RemoveFile'
  | 'RemoveDir'
  | 'RemoveDirAll'
  | { Rename: { new_path: string } }
  | 'Metadata'
  | 'AddZip'
  | { CopyFile: { new_path: string } }
  | 'Len'
  | { SetLen: number | bigint }
  | 'Hash';

export type FileType = 'File' | 'Directory' | 'Symlink' | 'Other';

export interface DirEntry {
  /** `pkg:pub/drive/...`, without a leading '/'. */
  path: string;
  file_type: FileType;
}

export interface FileMetadata {
  file_type: FileType;
  len: number;
}

export interface VfsRequest {
  path: string;
  action: VfsAction;
}

/** The JSON body of a VFS request. */
export function vfsRequest(path: string, action: VfsAction): VfsRequest {
  return { path, action };
}

const DEFAULT_TIMEOUT = 5;

/**
 * VfsError as Hyperdrive sends it: "NoWriteCap", "NoReadCap", "AddCapFailed", "MalformedRequest",
 * "NoBlob", "UnzipError", {"ParseError": {"error", "path"}} or {"IOError": "<OS text>"} (a missing
 * file is {"IOError": "No such file or directory (os error 2)"}).
 */
export type VfsErrorVariant =
  | 'NoWriteCap'
  | 'NoReadCap'
  | 'AddCapFailed'
  | 'MalformedRequest'
  | 'NoBlob'
  | 'UnzipError'
  | { ParseError: { error: string; path: string } }
  | { IOError: string };

function vfsError(path: string) {
  return (err: unknown) => new VfsError('vfs', err, `${describeVfsError(err)} (path ${path})`);
}

function describeVfsError(err: unknown): string {
  if (err !== null && typeof err === 'object') {
    const [variant, fields] = Object.entries(err)[0] ?? ['?', undefined];
    if (variant === 'IOError') return `I/O error: ${String(fields)}`;
    if (variant === 'ParseError') {
      const f = (fields ?? {}) as { error?: string; path?: string };
      return `could not use ${f.path}: ${f.error}`;
    }
    return describeVariant(err);
  }
  switch (err) {
    case 'NoReadCap':
      return "no read capability for this drive: a process may use its own package's drives; for another's it needs {\"kind\": \"read\", \"drive\": ...} from vfs (or root)";
    case 'NoWriteCap':
      return "no write capability for this drive: a process may use its own package's drives; for another's it needs {\"kind\": \"write\", \"drive\": ...} from vfs (or root); OpenFile and CloseFile need write too";
    case 'NoBlob':
      return 'this action needs the bytes in a blob';
    case 'MalformedRequest':
      return 'the request is not a VfsRequest, or the path is not /<package>:<publisher>/<drive>/...';
    default:
      return describeVariant(err);
  }
}

/** Whether a VfsError says nothing is at the path (Hyperdrive's IOError for ENOENT). */
export function isNotFound(e: unknown): boolean {
  if (!(e instanceof VfsError) || e.variant !== 'IOError') return false;
  return /\(os error 2\)$/.test(String((e.error as { IOError?: unknown }).IOError));
}

function call(path: string, action: VfsAction, timeout: number, bytes?: Uint8Array) {
  const options: CallOptions = { timeout };
  if (bytes !== undefined) options.blob = { bytes, mime: undefined };
  return callModule('vfs', vfsRequest(path, action), vfsError(path), options);
}

function callOk(path: string, action: VfsAction, timeout: number, bytes?: Uint8Array): void {
  expectUnit('vfs', call(path, action, timeout, bytes).value, 'Ok');
}

/** Create (or reuse) drive `name` of a package and return its path, `/<package>:<publisher>/<name>`. */
export function createDrive(pkg: PackageId, name: string, timeout = DEFAULT_TIMEOUT): string {
  const path = `/${packageIdToString(pkg)}/${name}`;
  callOk(path, 'CreateDrive', timeout);
  return path;
}

/** Read a whole file. */
export function readFile(path: string, timeout = DEFAULT_TIMEOUT): Uint8Array {
  const { value, message } = call(path, 'Read', timeout);
  expectUnit('vfs', value, 'Read');
  return message.blob()?.bytes ?? new Uint8Array(0);
}

/** Write a whole file (created if missing, replaced if present). */
export function writeFile(path: string, bytes: Uint8Array, timeout = DEFAULT_TIMEOUT): void {
  callOk(path, 'Write', timeout, bytes);
}

export function readDir(path: string, timeout = DEFAULT_TIMEOUT): DirEntry[] {
  return expectVariant<DirEntry[]>('vfs', call(path, 'ReadDir', timeout).value, 'ReadDir');
}

export function metadata(path: string, timeout = DEFAULT_TIMEOUT): FileMetadata {
  return expectVariant<FileMetadata>('vfs', call(path, 'Metadata', timeout).value, 'Metadata');
}

/** Whether something exists at `path` (an IOError, such as "No such file or directory", counts as no). */
export function exists(path: string, timeout = DEFAULT_TIMEOUT): boolean {
  try {
    metadata(path, timeout);
    return true;
  } catch (e) {
    if (e instanceof VfsError && e.variant === 'IOError') return false;
    throw e;
  }
}

export function removeFile(path: string, timeout = DEFAULT_TIMEOUT): void {
  callOk(path, 'RemoveFile', timeout);
}

export function removeDir(path: string, timeout = DEFAULT_TIMEOUT): void {
  callOk(path, 'RemoveDir', timeout);
}

export function removeDirAll(path: string, timeout = DEFAULT_TIMEOUT): void {
  callOk(path, 'RemoveDirAll', timeout);
}

export function rename(path: string, newPath: string, timeout = DEFAULT_TIMEOUT): void {
  callOk(path, { Rename: { new_path: newPath } }, timeout);
}

export function copyFile(path: string, newPath: string, timeout = DEFAULT_TIMEOUT): void {
  callOk(path, { CopyFile: { new_path: newPath } }, timeout);
}

/** Unpack a zip (bytes) into the directory at `path`. */
export function addZip(path: string, zip: Uint8Array, timeout = DEFAULT_TIMEOUT): void {
  callOk(path, 'AddZip', timeout, zip);
}

/** Open a file; with `create` it is made if missing (never truncated). */
export function openFile(path: string, create: boolean, timeout = DEFAULT_TIMEOUT): File {
  callOk(path, { OpenFile: { create } }, timeout);
  return new File(path, timeout);
}

/** Create a file, truncating it if it exists. */
export function createFile(path: string, timeout = DEFAULT_TIMEOUT): File {
  callOk(path, 'CreateFile', timeout);
  return new File(path, timeout);
}

/** Create one directory (its parent must exist). */
export function createDir(path: string, timeout = DEFAULT_TIMEOUT): Directory {
  callOk(path, 'CreateDir', timeout);
  return new Directory(path, timeout);
}

/** Open a directory; with `create` it is made (with its parents) if missing. */
export function openDir(path: string, create: boolean, timeout = DEFAULT_TIMEOUT): Directory {
  if (create) {
    callOk(path, 'CreateDirAll', timeout);
  } else {
    const m = metadata(path, timeout);
    if (m.file_type !== 'Directory')
      // process_lib's open_dir answers this IOError.
      throw new VfsError('vfs', { IOError: 'entry at path is not a directory' }, `${path} is a ${m.file_type}, not a directory`);
  }
  return new Directory(path, timeout);
}

/** A file in the VFS. Reads and writes at the cursor use the one handle (and cursor) the VFS keeps per file. */
export class File {
  constructor(
    readonly path: string,
    readonly timeout = DEFAULT_TIMEOUT,
  ) {}

  /** The whole file. */
  read(): Uint8Array {
    return readFile(this.path, this.timeout);
  }

  readToString(): string {
    return expectVariant<string>('vfs', call(this.path, 'ReadToString', this.timeout).value, 'ReadToString');
  }

  /** From the cursor to the end. */
  readToEnd(): Uint8Array {
    const { value, message } = call(this.path, 'ReadToEnd', this.timeout);
    expectUnit('vfs', value, 'Read');
    return message.blob()?.bytes ?? new Uint8Array(0);
  }

  /** `length` bytes from the cursor. */
  readExact(length: number | bigint): Uint8Array {
    const { value, message } = call(this.path, { ReadExact: { length } }, this.timeout);
    expectUnit('vfs', value, 'Read');
    return message.blob()?.bytes ?? new Uint8Array(0);
  }

  /** Replace the whole file. */
  write(bytes: Uint8Array): void {
    writeFile(this.path, bytes, this.timeout);
  }

  /** Write at the cursor, overwriting. */
  writeAll(bytes: Uint8Array): void {
    callOk(this.path, 'WriteAll', this.timeout, bytes);
  }

  /** Add to the end of the file. */
  append(bytes: Uint8Array): void {
    callOk(this.path, 'Append', this.timeout, bytes);
  }

  /** Move the cursor; returns the new offset. */
  seek(to: SeekFrom): number {
    const v = expectVariant<{ new_offset: number }>('vfs', call(this.path, { Seek: to }, this.timeout).value, 'SeekFrom');
    return v.new_offset;
  }

  setLen(length: number | bigint): void {
    callOk(this.path, { SetLen: length }, this.timeout);
  }

  len(): number {
    return expectVariant<number>('vfs', call(this.path, 'Len', this.timeout).value, 'Len');
  }

  metadata(): FileMetadata {
    return metadata(this.path, this.timeout);
  }

  syncAll(): void {
    callOk(this.path, 'SyncAll', this.timeout);
  }

  /** SHA-256 of the contents, as the VFS computes it. */
  hash(): Uint8Array {
    return Uint8Array.from(expectVariant<number[]>('vfs', call(this.path, 'Hash', this.timeout).value, 'Hash'));
  }

  remove(): void {
    removeFile(this.path, this.timeout);
  }

  /** Drop the handle the VFS keeps open for this file (the cursor starts again at 0); needs write. */
  close(): void {
    callOk(this.path, 'CloseFile', this.timeout);
  }

  text(): string {
    return fromUtf8(this.read());
  }
}

export class Directory {
  constructor(
    readonly path: string,
    readonly timeout = DEFAULT_TIMEOUT,
  ) {}

  /** The entries directly inside. */
  read(): DirEntry[] {
    return readDir(this.path, this.timeout);
  }
}
