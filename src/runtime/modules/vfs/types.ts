// The VFS wire format (book: VFS API; interop §10.7), as serde writes it: unit variants as bare
// strings, the others as single-key objects, u64 as JSON numbers.

export type SeekFrom = { Start: number } | { End: number } | { Current: number };

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
  | { kind: 'ReadExact'; length: number }
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
  | { kind: 'SetLen'; length: number }
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

/** VfsError, exactly the book's variants and fields. */
export type VfsErrorJson =
  | { NoCap: { action: string; path: string } }
  | { BadBytes: { action: string; path: string } }
  | { BadRequest: { error: string } }
  | { ParseError: { error: string; path: string } }
  | { IOError: { error: string; path: string } }
  | { CapChannelFail: { error: string } }
  | { BadJson: { error: string } }
  | { NotFound: { path: string } }
  | { CreateDirError: { path: string; error: string } }
  | { Other: { error: string } };

/** Thrown inside the VFS to become an `{"Err": ...}` answer. */
export class VfsFailure extends Error {
  override name = 'VfsFailure';
  constructor(readonly json: VfsErrorJson) {
    super(JSON.stringify(json));
  }
}

export const vfsErr = {
  noCap: (action: string, path: string) => new VfsFailure({ NoCap: { action, path } }),
  badBytes: (action: string, path: string) => new VfsFailure({ BadBytes: { action, path } }),
  badRequest: (error: string) => new VfsFailure({ BadRequest: { error } }),
  parse: (path: string, error: string) => new VfsFailure({ ParseError: { error, path } }),
  io: (path: string, error: string) => new VfsFailure({ IOError: { error, path } }),
  badJson: (error: string) => new VfsFailure({ BadJson: { error } }),
  notFound: (path: string) => new VfsFailure({ NotFound: { path } }),
  createDir: (path: string, error: string) => new VfsFailure({ CreateDirError: { path, error } }),
};

function u64(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw vfsErr.badRequest(`${what} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return v;
}

function i64(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw vfsErr.badRequest(`${what} must be an integer, got ${JSON.stringify(v)}`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw vfsErr.badRequest(`${what} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function parseSeek(v: unknown): SeekFrom {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      if (keys[0] === 'Start') return { Start: u64(o.Start, 'Seek Start') };
      if (keys[0] === 'End') return { End: i64(o.End, 'Seek End') };
      if (keys[0] === 'Current') return { Current: i64(o.Current, 'Seek Current') };
    }
  }
  throw vfsErr.badRequest(`Seek takes {"Start": n}, {"End": i} or {"Current": i}, got ${JSON.stringify(v)}`);
}

/** Decode the `action` field of a VfsRequest. */
export function parseAction(v: unknown): VfsAction {
  if (typeof v === 'string') {
    if (UNIT_ACTIONS.has(v)) return { kind: v } as VfsAction;
    throw vfsErr.badRequest(`unknown VFS action ${JSON.stringify(v)}`);
  }
  if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1) {
    const [tag, val] = Object.entries(v as Record<string, unknown>)[0];
    const fields = (val ?? {}) as Record<string, unknown>;
    switch (tag) {
      case 'OpenFile':
        if (typeof fields.create !== 'boolean') throw vfsErr.badRequest('OpenFile takes {"create": true|false}');
        return { kind: 'OpenFile', create: fields.create };
      case 'ReadExact':
        return { kind: 'ReadExact', length: u64(fields.length, 'ReadExact length') };
      case 'Seek':
        return { kind: 'Seek', seek: parseSeek(val) };
      case 'Rename':
        return { kind: 'Rename', newPath: str(fields.new_path, 'Rename new_path') };
      case 'CopyFile':
        return { kind: 'CopyFile', newPath: str(fields.new_path, 'CopyFile new_path') };
      case 'SetLen':
        return { kind: 'SetLen', length: u64(val, 'SetLen') };
      default:
        if (UNIT_ACTIONS.has(tag)) return { kind: tag } as VfsAction;
    }
  }
  throw vfsErr.badRequest(`unknown VFS action ${JSON.stringify(v)}`);
}

/** What an action needs on the drive it touches: a read or a write capability. */
export function accessOf(a: VfsAction): 'read' | 'write' {
  switch (a.kind) {
    case 'Read':
    case 'ReadDir':
    case 'ReadToEnd':
    case 'ReadExact':
    case 'ReadToString':
    case 'Seek':
    case 'Hash':
    case 'Metadata':
    case 'Len':
    case 'CloseFile':
    case 'CopyFile': // the source; the destination needs write
      return 'read';
    case 'OpenFile':
      return a.create ? 'write' : 'read';
    default:
      return 'write';
  }
}
