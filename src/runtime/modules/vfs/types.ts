// The VFS wire format as Hyperdrive's serde reads and writes it (hyperdrive/lib/src/vfs.rs,
// process_lib src/vfs/mod.rs): unit variants as bare strings, the others as single-key objects,
// u64 as JSON numbers (bigint above 2^53, src/core/json.ts). A request serde could not read is
// answered MalformedRequest, as Hyperdrive does.

import { isI64, isU64 } from '../../../core/json.js';
import { ioErrorText, isErrnoCode, osErrorText } from '../os-error.js';

export type SeekFrom = { Start: bigint } | { End: bigint } | { Current: bigint };

export type VfsAction =
  | { kind: 'CreateDrive' }
  | { kind: 'CreateDir' }
  | { kind: 'CreateDirAll' }
  | { kind: 'CreateFile' }
  | { kind: 'OpenFile'; create: boolean }
  | { kind: 'CloseFile' }
  | { kind: 'Write' }
  | { kind: 'WriteAll' }
  | { kind: 'Append' }
  | { kind: 'SyncAll' }
  | { kind: 'Read' }
  | { kind: 'ReadDir' }
  | { kind: 'ReadToEnd' }
  | { kind: 'ReadExact'; length: bigint }
  | { kind: 'ReadToString' }
  | { kind: 'Seek'; seek: SeekFrom }
  | { kind: 'RemoveFile' }
  | { kind: 'RemoveDir' }
  | { kind: 'RemoveDirAll' }
  | { kind: 'Rename'; newPath: string }
  | { kind: 'Metadata' }
  | { kind: 'AddZip' }
  | { kind: 'CopyFile'; newPath: string }
  | { kind: 'Len' }
  | { kind: 'SetLen'; length: bigint }
  | { kind: 'Hash' };

export type VfsActionKind = VfsAction['kind'];

const UNIT_ACTIONS = new Set<string>([
  'CreateDrive',
  'CreateDir',
  'CreateDirAll',
  'CreateFile',
  'CloseFile',
  'Write',
  'WriteAll',
  'Append',
  'SyncAll',
  'Read',
  'ReadDir',
  'ReadToEnd',
  'ReadToString',
  'RemoveFile',
  'RemoveDir',
  'RemoveDirAll',
  'Metadata',
  'AddZip',
  'Len',
  'Hash',
]);

/** VfsError exactly as serde writes Hyperdrive's enum. */
export type VfsErrorJson =
  | 'NoWriteCap'
  | 'NoReadCap'
  | 'AddCapFailed'
  | 'MalformedRequest'
  | 'NoBlob'
  | { ParseError: { error: string; path: string } }
  | { IOError: string }
  | 'UnzipError';

/** Thrown inside the VFS to become an `{"Err": ...}` answer. */
export class VfsFailure extends Error {
  override name = 'VfsFailure';
  constructor(readonly json: VfsErrorJson) {
    super(JSON.stringify(json));
  }
}

export const vfsErr = {
  noWriteCap: () => new VfsFailure('NoWriteCap'),
  noReadCap: () => new VfsFailure('NoReadCap'),
  malformed: () => new VfsFailure('MalformedRequest'),
  noBlob: () => new VfsFailure('NoBlob'),
  unzip: () => new VfsFailure('UnzipError'),
  parse: (path: string, error: string) => new VfsFailure({ ParseError: { error, path } }),
  /** IOError with Rust's text for an errno code ("ENOENT") or a plain message. */
  io: (codeOrText: string) => new VfsFailure({ IOError: isErrnoCode(codeOrText) ? osErrorText(codeOrText) : codeOrText }),
};

/** Whether a VfsError (as JSON) says nothing is at the path: Hyperdrive's IOError for ENOENT. */
export function isNotFoundError(err: unknown): boolean {
  return !!err && typeof err === 'object' && (err as { IOError?: unknown }).IOError === osErrorText('ENOENT');
}

/** A file-system error as the IOError a Rust process would get; other failures pass through. */
export function ioFailure(e: unknown): VfsFailure {
  if (e instanceof VfsFailure) return e;
  return new VfsFailure({ IOError: ioErrorText(e) });
}

function u64(v: unknown): bigint {
  if (!isU64(v)) throw vfsErr.malformed();
  return BigInt(v);
}

function i64(v: unknown): bigint {
  if (!isI64(v)) throw vfsErr.malformed();
  return BigInt(v);
}

function str(v: unknown): string {
  if (typeof v !== 'string') throw vfsErr.malformed();
  return v;
}

/** A struct variant's fields, by name or (as serde also reads them) by position. */
function fields(v: unknown, names: string[]): Record<string, unknown> {
  if (Array.isArray(v)) {
    if (v.length !== names.length) throw vfsErr.malformed();
    return Object.fromEntries(names.map((n, i) => [n, v[i]]));
  }
  if (!v || typeof v !== 'object') throw vfsErr.malformed();
  return v as Record<string, unknown>;
}

function parseSeek(v: unknown): SeekFrom {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      if (keys[0] === 'Start') return { Start: u64(o.Start) };
      if (keys[0] === 'End') return { End: i64(o.End) };
      if (keys[0] === 'Current') return { Current: i64(o.Current) };
    }
  }
  throw vfsErr.malformed();
}

/** Decode the `action` field of a VfsRequest as serde does; MalformedRequest otherwise. */
export function parseAction(v: unknown): VfsAction {
  if (typeof v === 'string') {
    if (UNIT_ACTIONS.has(v)) return { kind: v } as VfsAction;
    throw vfsErr.malformed();
  }
  if (!v || typeof v !== 'object' || Array.isArray(v) || Object.keys(v).length !== 1) throw vfsErr.malformed();
  const [tag, val] = Object.entries(v as Record<string, unknown>)[0];
  switch (tag) {
    case 'OpenFile': {
      const f = fields(val, ['create']);
      if (typeof f.create !== 'boolean') throw vfsErr.malformed();
      return { kind: 'OpenFile', create: f.create };
    }
    case 'ReadExact':
      return { kind: 'ReadExact', length: u64(fields(val, ['length']).length) };
    case 'Seek':
      return { kind: 'Seek', seek: parseSeek(val) };
    case 'Rename':
      return { kind: 'Rename', newPath: str(fields(val, ['new_path']).new_path) };
    case 'CopyFile':
      return { kind: 'CopyFile', newPath: str(fields(val, ['new_path']).new_path) };
    case 'SetLen':
      return { kind: 'SetLen', length: u64(val) };
    default:
      // serde takes a unit variant written as {"Name": null} too.
      if (UNIT_ACTIONS.has(tag) && val === null) return { kind: tag } as VfsAction;
      throw vfsErr.malformed();
  }
}

/**
 * The capability an action needs on the drive it names (hyperdrive/src/vfs.rs check_caps):
 * 'read' exactly for the read group, 'write' for the rest; Rename and CopyFile need write on both
 * drives; CreateDrive needs to be the drive's package or hold root.
 */
export function accessOf(a: VfsAction): 'read' | 'write' | 'two-drives' | 'create-drive' {
  switch (a.kind) {
    case 'Read':
    case 'ReadDir':
    case 'ReadExact':
    case 'ReadToEnd':
    case 'ReadToString':
    case 'Seek':
    case 'Hash':
    case 'Metadata':
    case 'Len':
      return 'read';
    case 'CopyFile':
    case 'Rename':
      return 'two-drives';
    case 'CreateDrive':
      return 'create-drive';
    default:
      return 'write';
  }
}
