// Deterministic package zips (interop §2.3) and a strict unzip.
//
// A package zip's sha256 is its version hash and goes on chain, so the bytes must depend only on
// the files: entries sorted by path (component by component, as Rust's Path orders them),
// directories as `name/` entries, one fixed mtime (2023-06-19 00:00:00), unix mode 0o755, and
// one pinned compressor and level (fflate's Deflate at level 6). The container itself is
// written here so that no library default (timestamps, extra fields, key order) can leak in.

import { createHash } from 'node:crypto';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync, crc32 as zlibCrc32, inflateRaw, inflateRawSync } from 'node:zlib';
import { deflateSync } from 'fflate';

const inflateRawAsync = promisify(inflateRaw) as (buf: Uint8Array, opts: { maxOutputLength: number }) => Promise<Buffer>;

export interface ZipEntry {
  /** Relative path with '/' separators; directories end with '/'. */
  path: string;
  bytes: Uint8Array;
  isDir: boolean;
}

/** The zip is damaged or uses a feature we do not read (zip64, encryption, other methods). */
export class ZipFormatError extends Error {
  override name = 'ZipFormatError';
}

/** An entry would land outside the folder it is extracted into. */
export class ZipPathError extends Error {
  override name = 'ZipPathError';
  constructor(readonly entry: string, reason: string) {
    super(`zip entry '${entry}' ${reason}; entries must be relative paths inside the archive's root`);
  }
}

/** Pinned: changing any of these changes every package's version hash. */
const DEFLATE_LEVEL = 6;
const FILE_MODE = 0o100755; // regular file, rwxr-xr-x (as the zip crate writes 0o755 files)
const DIR_MODE = 0o040755;
const DOS_DATE = ((2023 - 1980) << 9) | (6 << 5) | 19; // 2023-06-19
const DOS_TIME = 0; // 00:00:00
const VERSION_MADE_BY = (3 << 8) | 46; // unix, zip spec 4.6
const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const UTF8_FLAG = 0x0800;

// ---------------------------------------------------------------------------------------------
// Hashing

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function crc32(bytes: Uint8Array): number {
  return zlibCrc32(bytes);
}

/** Raw deflate and CRC-32 in one native pass (a gzip member is a 10-byte header, the deflate stream, CRC-32 and size). */
function nativeDeflate(bytes: Uint8Array, level: number): { packed: Uint8Array; crc: number } {
  const gz = gzipSync(bytes, { level });
  return { packed: gz.subarray(10, gz.length - 8), crc: gz.readUInt32LE(gz.length - 8) };
}

// ---------------------------------------------------------------------------------------------
// Paths

/**
 * Check an entry name and return it unchanged. Rejects absolute paths, drive letters,
 * backslashes, NUL, empty, `.` and `..` segments: anything that could leave the root.
 */
export function checkEntryPath(name: string): string {
  if (name.length === 0) throw new ZipPathError(name, 'is empty');
  if (name.includes('\\')) throw new ZipPathError(name, 'contains a backslash');
  if (name.includes('\0')) throw new ZipPathError(name, 'contains a NUL byte');
  if (name.startsWith('/')) throw new ZipPathError(name, 'is absolute');
  if (/^[A-Za-z]:/.test(name)) throw new ZipPathError(name, 'starts with a drive letter');
  const segments = (name.endsWith('/') ? name.slice(0, -1) : name).split('/');
  for (const s of segments) {
    if (s === '..') throw new ZipPathError(name, "climbs out with '..'");
    if (s === '.' || s === '') throw new ZipPathError(name, "has an empty or '.' segment");
  }
  return name;
}

/** Path order of Rust's `Path`: compare segment by segment, each by its UTF-8 bytes. */
export function comparePaths(a: string, b: string): number {
  const as = a.replace(/\/$/, '').split('/');
  const bs = b.replace(/\/$/, '').split('/');
  for (let i = 0; i < Math.min(as.length, bs.length); i++) {
    const c = Buffer.compare(Buffer.from(as[i]), Buffer.from(bs[i]));
    if (c !== 0) return c;
  }
  return as.length - bs.length;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Walk `dir` (following symlinks, never looping) and list its files and folders, root excluded. */
async function collect(dir: string): Promise<ZipEntry[]> {
  const out: ZipEntry[] = [];
  const seen = new Set<string>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    const real = await realpath(abs);
    if (seen.has(real)) return; // a symlink back up the tree
    seen.add(real);
    for (const name of await readdir(abs)) {
      const childAbs = join(abs, name);
      const childRel = rel ? `${rel}/${name}` : name;
      const st = await stat(childAbs);
      if (st.isDirectory()) {
        out.push({ path: `${childRel}/`, bytes: new Uint8Array(0), isDir: true });
        await walk(childAbs, childRel);
      } else if (st.isFile()) {
        out.push({ path: childRel, bytes: new Uint8Array(await readFile(childAbs)), isDir: false });
      }
    }
  };
  await walk(dir, '');
  return out;
}

/** Zip the contents of `dir` (not `dir` itself), deterministically. */
export interface ZipOptions {
  /**
   * Native zlib at its fastest level instead of the pinned compressor: for zips that are never
   * published (development builds), whose bytes need not be reproducible across kit versions.
   */
  fast?: boolean;
}

export async function zipDirectory(dir: string, opts: ZipOptions = {}): Promise<Uint8Array> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new Error(`cannot zip ${dir}: it is not a directory`);
  return zipEntries(await collect(dir), opts);
}

/** Build a deterministic zip from entries (sorted here; order given does not matter). */
export function zipEntries(entries: readonly ZipEntry[], opts: ZipOptions = {}): Uint8Array {
  const sorted = entries
    .map((e) => {
      const path = e.isDir && !e.path.endsWith('/') ? `${e.path}/` : e.path;
      checkEntryPath(path);
      return { ...e, path };
    })
    .sort((a, b) => comparePaths(a.path, b.path));

  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const e of sorted) {
    const name = Buffer.from(e.path, 'utf8');
    const flags = /^[\x20-\x7e]*$/.test(e.path) ? 0 : UTF8_FLAG;
    const data = e.isDir ? new Uint8Array(0) : e.bytes;
    // Directories are stored, files deflated, as the zip crate does.
    const method = e.isDir ? 0 : 8;
    let packed: Uint8Array = data;
    let crc: number;
    if (method === 8 && opts.fast) ({ packed, crc } = nativeDeflate(data, 1));
    else {
      if (method === 8) packed = deflateSync(data, { level: DEFLATE_LEVEL });
      crc = crc32(data);
    }
    const needed = method === 8 ? 20 : 10;
    if (offset > 0xfffffffe || packed.length > 0xfffffffe || data.length > 0xfffffffe)
      throw new Error(`cannot zip ${e.path}: the archive would need zip64 (over 4 GB)`);

    // The local and central headers share one run of fields (version needed .. name length).
    const fields = (buf: Buffer, at: number) => {
      buf.writeUInt16LE(needed, at);
      buf.writeUInt16LE(flags, at + 2);
      buf.writeUInt16LE(method, at + 4);
      buf.writeUInt16LE(DOS_TIME, at + 6);
      buf.writeUInt16LE(DOS_DATE, at + 8);
      buf.writeUInt32LE(crc, at + 10);
      buf.writeUInt32LE(packed.length, at + 14);
      buf.writeUInt32LE(data.length, at + 18);
      buf.writeUInt16LE(name.length, at + 22);
    };

    const local = Buffer.alloc(30 + name.length);
    local.writeUInt32LE(SIG_LOCAL, 0);
    fields(local, 4);
    local.writeUInt16LE(0, 28);
    name.copy(local, 30);

    const central = Buffer.alloc(46 + name.length);
    central.writeUInt32LE(SIG_CENTRAL, 0);
    central.writeUInt16LE(VERSION_MADE_BY, 4);
    fields(central, 6);
    // extra length, comment length, disk number, internal attributes: all 0
    central.writeUInt32LE(((e.isDir ? DIR_MODE : FILE_MODE) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    name.copy(central, 46);

    locals.push(local, packed);
    centrals.push(central);
    offset += local.length + packed.length;
  }
  const cdSize = centrals.reduce((n, c) => n + c.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(SIG_END, 0);
  end.writeUInt16LE(sorted.length, 8);
  end.writeUInt16LE(sorted.length, 10);
  end.writeUInt32LE(cdSize, 12);
  end.writeUInt32LE(offset, 16);
  if (sorted.length > 0xffff) throw new Error('cannot zip more than 65535 entries (zip64 is not written)');
  return new Uint8Array(Buffer.concat([...locals, ...centrals, end]));
}

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * How far a zip may expand. Hyperdrive sets no bound; a node we run does, so that one package (or
 * one process's VFS AddZip) cannot fill the disk or the memory with a few megabytes of zip bomb.
 */
export interface ZipLimits {
  /** Most bytes all entries together may expand to. */
  maxBytes: number;
  /** Most times its own size an archive may expand to, once it expands past ZIP_RATIO_FLOOR_BYTES. */
  maxRatio: number;
}

/** 512 MiB is several times the largest real package; 100x is far above what code and UI compress to. */
export const DEFAULT_ZIP_LIMITS: Readonly<ZipLimits> = { maxBytes: 512 * 1024 * 1024, maxRatio: 100 };
/** Archives that expand to this much or less are never refused for their ratio (a few zero-filled files are fine). */
export const ZIP_RATIO_FLOOR_BYTES = 32 * 1024 * 1024;

/** The zip would expand past a limit of ZipLimits; the message gives the figures. */
export class ZipLimitError extends ZipFormatError {
  override name = 'ZipLimitError';
}

export interface UnzipOptions {
  /** Refuse archives that would expand past this many bytes (default DEFAULT_ZIP_LIMITS.maxBytes). */
  maxBytes?: number;
  /** Refuse archives that would expand past this many times their size (default DEFAULT_ZIP_LIMITS.maxRatio). */
  maxRatio?: number;
  /** Inflate only the entries this accepts (every name is still checked; the limits count only these). */
  only?: (path: string) => boolean;
}

function mib(n: number): string {
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** One entry as the central directory describes it, its name checked and its data located. */
interface EntryRecord {
  name: string;
  isDir: boolean;
  method: number;
  crc: number;
  size: number;
  packed: Buffer;
}

/**
 * Read and check the whole central directory before inflating anything: every name, and the
 * declared sizes against the limits (inflating stops at the declared size, so a lie is caught there).
 */
function readEntries(bytes: Uint8Array, opts: UnzipOptions): EntryRecord[] {
  const maxBytes = opts.maxBytes ?? DEFAULT_ZIP_LIMITS.maxBytes;
  const maxRatio = opts.maxRatio ?? DEFAULT_ZIP_LIMITS.maxRatio;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 22) throw new ZipFormatError('not a zip: too short');
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === SIG_END) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipFormatError('not a zip: no end-of-central-directory record');
  const count = buf.readUInt16LE(eocd + 10);
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff) throw new ZipFormatError('zip64 archives are not supported');
  if (cdOffset + cdSize > eocd) throw new ZipFormatError('damaged zip: central directory out of range');

  const records: EntryRecord[] = [];
  let total = 0;
  let p = cdOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > eocd || buf.readUInt32LE(p) !== SIG_CENTRAL)
      throw new ZipFormatError(`damaged zip: central directory entry ${n} is unreadable`);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const packedSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const localOffset = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    p += 46 + nameLen + extraLen + commentLen;

    checkEntryPath(name);
    if (flags & 1) throw new ZipFormatError(`zip entry '${name}' is encrypted`);
    if (size === 0xffffffff || packedSize === 0xffffffff || localOffset === 0xffffffff)
      throw new ZipFormatError(`zip entry '${name}' needs zip64, which is not supported`);
    if (method !== 0 && method !== 8)
      throw new ZipFormatError(`zip entry '${name}' uses compression method ${method}; only stored and deflate are read`);
    // The limits guard what is inflated: reading one entry (a manifest) of a big archive is fine.
    if (opts.only && !opts.only(name)) continue;
    total += size;
    if (total > maxBytes)
      throw new ZipLimitError(`zip expands to more than ${maxBytes} bytes (${mib(maxBytes)}), the most one archive may unpack to here`);

    if (localOffset + 30 > buf.length || buf.readUInt32LE(localOffset) !== SIG_LOCAL)
      throw new ZipFormatError(`damaged zip: local header of '${name}' is missing`);
    const start = localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
    if (start + packedSize > buf.length) throw new ZipFormatError(`damaged zip: data of '${name}' is cut off`);
    records.push({ name, isDir: name.endsWith('/'), method, crc, size, packed: buf.subarray(start, start + packedSize) });
  }
  if (total > ZIP_RATIO_FLOOR_BYTES && total > maxRatio * buf.length)
    throw new ZipLimitError(
      `zip of ${mib(buf.length)} expands to ${mib(total)}, ${Math.round(total / buf.length)} times its size; the most allowed here is ${maxRatio} times (above ${mib(ZIP_RATIO_FLOOR_BYTES)})`,
    );
  return records;
}

function inflated(out: Buffer): Uint8Array {
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

function inflateError(r: EntryRecord, e: unknown): ZipFormatError {
  return new ZipFormatError(`damaged zip: '${r.name}' does not inflate (${(e as Error).message})`);
}

function checked(r: EntryRecord, data: Uint8Array, crc: number): ZipEntry {
  if (crc !== r.crc) throw new ZipFormatError(`damaged zip: '${r.name}' fails its CRC check`);
  return { path: r.name, bytes: r.isDir ? new Uint8Array(0) : data, isDir: r.isDir };
}

/**
 * Check a whole archive against the limits from its central directory alone, inflating nothing:
 * for a reader of one entry that still refuses what a full unpack would (ZipLimitError, ZipPathError).
 */
export function checkZip(bytes: Uint8Array, opts: Omit<UnzipOptions, 'only'> = {}): void {
  readEntries(bytes, { maxBytes: opts.maxBytes, maxRatio: opts.maxRatio });
}

/** Read every entry of a zip. Throws ZipFormatError for a damaged zip (ZipLimitError over a limit), ZipPathError for an escaping entry. */
export function unzip(bytes: Uint8Array, opts: UnzipOptions = {}): ZipEntry[] {
  return readEntries(bytes, opts).map((r) => {
    let data: Uint8Array;
    if (r.method === 0) data = new Uint8Array(r.packed);
    else {
      try {
        // Reading needs no pinned bytes, so it uses Node's native inflate (several times faster
        // than fflate's JS on a 12 MB component); only writing must stay on the pinned deflater.
        data = inflated(inflateRawSync(r.packed, { maxOutputLength: Math.max(r.size, 1) }));
      } catch (e) {
        throw inflateError(r, e);
      }
    }
    if (data.length !== r.size) throw new ZipFormatError(`damaged zip: '${r.name}' has ${data.length} bytes, expected ${r.size}`);
    return checked(r, data, crc32(data));
  });
}

/** Bytes of CRC computed per turn of the event loop by unzipAsync. */
const CRC_SLICE_BYTES = 4 * 1024 * 1024;

/**
 * unzip without holding the thread: entries inflate on libuv's thread pool and their CRCs are
 * computed a slice per turn of the event loop, so a node keeps routing messages while a big
 * package unpacks.
 */
export async function unzipAsync(bytes: Uint8Array, opts: UnzipOptions = {}): Promise<ZipEntry[]> {
  const out: ZipEntry[] = [];
  for (const r of readEntries(bytes, opts)) {
    let data: Uint8Array;
    if (r.method === 0) data = new Uint8Array(r.packed);
    else {
      try {
        data = inflated(await inflateRawAsync(r.packed, { maxOutputLength: Math.max(r.size, 1) }));
      } catch (e) {
        throw inflateError(r, e);
      }
    }
    if (data.length !== r.size) throw new ZipFormatError(`damaged zip: '${r.name}' has ${data.length} bytes, expected ${r.size}`);
    let crc = 0;
    for (let at = 0; at < data.length; at += CRC_SLICE_BYTES) {
      crc = zlibCrc32(data.subarray(at, at + CRC_SLICE_BYTES), crc);
      if (at + CRC_SLICE_BYTES < data.length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    out.push(checked(r, data, crc));
  }
  return out;
}
