// A development component: the engine's initializer run in V8 instead of under wizer, and its
// memory image put into the engine's template component. The result is a complete component:
// the same core module code, imports, exports and component wrapping componentize-js makes
// (engine.ts), with a memory image made by the same initializer from the same environment and
// command line. It differs from a componentize-js build where two componentize-js builds of the
// same source differ from each other (hash seeds, timestamps, the temporary paths wizer sees).
//
// What wizer does, and so what this does: instantiate the module with WASI (only), with every
// other import trapping; call `_initialize` (a reactor's constructors), then the init function
// `componentize.wizer`; then record the memory (non-zero runs become data segments, memory's
// minimum becomes its current size) and every mutable global, and drop the two exports.

import { readFileSync } from 'node:fs';
import { concatBytes } from '../../core/bytes.js';
import { type DataSegment, moduleFromSections, Reader, type Section, sections, Writer } from '../../core/wasm-binary.js';
import { type EngineMeta, engineFiles } from './engine.js';
import { GuestExit, InitWasi } from './init-wasi.js';

const PAGE = 65536;
/** wizer's own limit: engines differ in how many data segments they accept. */
export const MAX_DATA_SEGMENTS = 10_000;
/** The granularity of the memory image's segments (see memoryRuns). */
const BLOCK = 256;
const INITIALIZER_PATH = '.kit-initializer.js';
const GLOBAL_EXPORT_PREFIX = '__kit_snapshot_global_';

interface WasmModuleLike {
  readonly __wasmModule?: never;
}
interface WasmGlobal {
  value: number | bigint;
}
interface WasmApi {
  Module: { new (bytes: Uint8Array): WasmModuleLike; imports(m: WasmModuleLike): Array<{ module: string; name: string; kind: string }> };
  Instance: new (m: WasmModuleLike, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  compile(bytes: Uint8Array): Promise<WasmModuleLike>;
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

interface MutableGlobal {
  index: number;
  type: number;
  exportName: string;
}

/** An engine loaded for making snapshots: plain data (can be posted to a worker) plus the compiled module. */
export interface EngineParts {
  dir: string;
  meta: EngineMeta;
  /** spliced.wasm with its mutable globals exported, to read them after the initializer. */
  initBytes: Uint8Array;
  globals: MutableGlobal[];
  initializer: Uint8Array;
  template: Uint8Array;
}

export function loadEngineParts(dir: string): EngineParts {
  const f = engineFiles(dir);
  const meta = JSON.parse(readFileSync(f.meta, 'utf8')) as EngineMeta;
  const { bytes: initBytes, globals } = exportMutableGlobals(new Uint8Array(readFileSync(f.spliced)));
  return {
    dir,
    meta,
    initBytes,
    globals,
    initializer: new Uint8Array(readFileSync(f.initializer)),
    template: new Uint8Array(readFileSync(f.template)),
  };
}

export function compileInitModule(parts: EngineParts): Promise<WasmModuleLike> {
  return Wasm.compile(parts.initBytes);
}

export interface SnapshotSource {
  /** The bundled source. */
  bytes: Uint8Array;
  /**
   * Its path as the engine sees it (StarlingMonkey names it in stack traces): componentize-js
   * passes the path relative to the working directory when the file is under it, else its name.
   */
  path: string;
}

export interface SnapshotResult {
  component: Uint8Array;
  /** Milliseconds in the initializer (the rest is copying). */
  initMs: number;
}

/** Runs the initializer on `source` and returns the development component. */
export function snapshotComponent(parts: EngineParts, module: WasmModuleLike, source: SnapshotSource): SnapshotResult {
  const path = source.path.replace(/^\/+/, '');
  if (path === INITIALIZER_PATH) throw new SnapshotError(`a source may not be named ${INITIALIZER_PATH}`);
  const wasi = new InitWasi({
    env: parts.meta.env,
    // componentize-js's command line, with "/" as the source's folder (wizer's --mapdir=/::<dir>)
    stdin: new TextEncoder().encode(`--initializer-script-path /${INITIALIZER_PATH} --strip-path-prefix / ${path}\n`),
    files: new Map([
      [INITIALIZER_PATH, parts.initializer],
      [path, source.bytes],
    ]),
  });
  const imports: Record<string, Record<string, unknown>> = { wasi_snapshot_preview1: wasi.imports() };
  for (const imp of Wasm.Module.imports(module)) {
    if (imp.module === 'wasi_snapshot_preview1' || imp.kind !== 'function') continue;
    imports[imp.module] ??= {};
    // wizer lets an initializer call no import but WASI's: calling one traps.
    imports[imp.module][imp.name] = () => {
      throw new SnapshotError(
        `the source's top level called ${imp.module}#${imp.name}: imports (and Math.random, crypto) are not available while the component is made, only once init() runs`,
      );
    };
  }
  const t0 = performance.now();
  const instance = new Wasm.Instance(module, imports);
  const memory = instance.exports.memory as { buffer: ArrayBuffer } | undefined;
  if (!memory) throw new SnapshotError('the engine exports no memory');
  wasi.bind(memory);
  const call = (name: string) => {
    const f = instance.exports[name];
    if (typeof f !== 'function') return undefined;
    try {
      return (f as () => unknown)();
    } catch (e) {
      throw initFailure(e, wasi);
    }
  };
  call('_initialize');
  if (call('componentize.wizer') === undefined && typeof instance.exports['componentize.wizer'] !== 'function')
    throw new SnapshotError('the engine has no componentize.wizer export');
  const status = call('check_init');
  if (status !== 0) {
    const what = status === 1 ? 'Unable to extract expected exports list' : status === 2 ? 'Unable to parse the core ABI export types' : `Unknown error during initialization: ${status}`;
    const stderr = wasi.stderrText().trim();
    throw new SnapshotError(`${what}${stderr ? `\n${stderr}` : ''}`);
  }
  const initMs = performance.now() - t0;

  const image = new Uint8Array(memory.buffer);
  const values = new Map(parts.globals.map((g) => [g.index, (instance.exports[g.exportName] as WasmGlobal).value]));
  const component = componentWithImage(parts.template, parts.meta.mainSection, image, values);
  return { component, initMs };
}

function initFailure(e: unknown, wasi: InitWasi): SnapshotError {
  const stderr = wasi
    .stderrText()
    .replace(/\n*Redirecting call to abort\(\) to mozalloc_abort\n*/g, '\n')
    .trim();
  if (e instanceof GuestExit) return new SnapshotError(stderr || `the engine exited with code ${e.code} while evaluating the source`);
  const why = e instanceof Error ? e.message : String(e);
  return new SnapshotError(stderr ? `${stderr}\n(${why})` : `evaluating the source failed: ${why}`);
}

/**
 * [start, end) ranges of `image` covering its non-zero bytes, merged to at most MAX_DATA_SEGMENTS.
 * Ranges are whole 256-byte blocks, compared natively against a zero block: this runs once per
 * build, mostly before V8 has optimized it, and a byte-exact scan in JS cost more time than it
 * saved space (measured on the echo template: 3.35 MB of data in 104 segments instead of wizer's
 * 3.08 MB in 10,000; zeros written over zeroed memory change nothing).
 */
export function memoryRuns(image: Uint8Array, maxSegments = MAX_DATA_SEGMENTS): Array<[number, number]> {
  const bytes = Buffer.from(image.buffer, image.byteOffset, image.length);
  const zero = Buffer.alloc(BLOCK);
  const runs: Array<[number, number]> = [];
  let open = false;
  for (let at = 0; at < bytes.length; at += BLOCK) {
    const end = Math.min(at + BLOCK, bytes.length);
    if (bytes.compare(zero, 0, end - at, at, end) === 0) {
      open = false;
      continue;
    }
    if (open) runs[runs.length - 1][1] = end;
    else runs.push([at, end]);
    open = true;
  }
  if (runs.length <= maxSegments) return runs;
  // Join across the smallest gaps until few enough remain.
  const gaps = runs.slice(1).map((r, k) => r[0] - runs[k][1]);
  const threshold = [...gaps].sort((a, b) => a - b)[runs.length - maxSegments - 1];
  // every gap under the threshold goes, and as many at it as still needed
  let atThreshold = runs.length - maxSegments - gaps.filter((g) => g < threshold).length;
  const merged: Array<[number, number]> = [[...runs[0]]];
  for (let k = 1; k < runs.length; k++) {
    const gap = gaps[k - 1];
    if (gap < threshold || (gap === threshold && atThreshold-- > 0)) merged[merged.length - 1][1] = runs[k][1];
    else merged.push([...runs[k]]);
  }
  return merged;
}

/** Non-zero runs of `image` as data segments (views into `image`). */
export function memorySegments(image: Uint8Array, maxSegments = MAX_DATA_SEGMENTS): DataSegment[] {
  return memoryRuns(image, maxSegments).map(([s, e]) => ({ offset: s, bytes: image.subarray(s, e) }));
}

/** Bytes to write: a buffer, or a known size and a function that writes it. */
type Piece = Uint8Array | { size: number; write(out: Uint8Array, at: number): void };

const pieceSize = (p: Piece) => (p instanceof Uint8Array ? p.length : p.size);

function sectionPieces(id: number, body: Piece[]): Piece[] {
  const size = body.reduce((n, p) => n + pieceSize(p), 0);
  return [new Writer().byte(id).u32(size).finish(), ...body];
}

function assemble(pieces: Piece[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((n, p) => n + pieceSize(p), 0));
  let at = 0;
  for (const p of pieces) {
    if (p instanceof Uint8Array) out.set(p, at);
    else p.write(out, at);
    at += pieceSize(p);
  }
  return out;
}

/** The data section of `image`'s runs, written straight from the image into the output. */
function dataSection(image: Uint8Array, runs: Array<[number, number]>): Piece {
  const headers = runs.map(([s, e]) => new Writer().u32(0).byte(0x41).s33(s | 0).byte(0x0b).u32(e - s).finish());
  const count = new Writer().u32(runs.length).finish();
  const size = count.length + headers.reduce((n, h, i) => n + h.length + runs[i][1] - runs[i][0], 0);
  return {
    size,
    write(out, at) {
      out.set(count, at);
      at += count.length;
      runs.forEach(([s, e], i) => {
        out.set(headers[i], at);
        at += headers[i].length;
        out.set(image.subarray(s, e), at);
        at += e - s;
      });
    },
  };
}

/** The core module's sections with `image` as its memory's contents and `globals` as its globals' values. */
function moduleWithImage(module: Uint8Array, image: Uint8Array, globals: ReadonlyMap<number, number | bigint>): Piece[] {
  const secs = sections(module);
  const runs = memoryRuns(image);
  const importedGlobals = countImportedGlobals(secs);
  if (!secs.some((s) => s.id === 11)) throw new SnapshotError('the engine module has no data section to replace');
  const pieces: Piece[] = [Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00)];
  for (const s of secs) {
    let body: Piece = s.body;
    if (s.id === 5) body = withMinPages(s.body, Math.ceil(image.length / PAGE));
    else if (s.id === 6) body = withGlobalValues(s.body, importedGlobals, globals);
    else if (s.id === 11) body = dataSection(image, runs);
    else if (s.id === 12) body = new Writer().u32(runs.length).finish();
    pieces.push(...sectionPieces(s.id, [body]));
  }
  return pieces;
}

/** The core module with `image` as its memory's contents and `globals` as its globals' values. */
export function withMemoryImage(module: Uint8Array, image: Uint8Array, globals: ReadonlyMap<number, number | bigint>): Uint8Array {
  return assemble(moduleWithImage(module, image, globals));
}

/** The template component with its main core module given `image` and `globals`: one copy of everything. */
function componentWithImage(template: Uint8Array, mainSection: number, image: Uint8Array, globals: ReadonlyMap<number, number | bigint>): Uint8Array {
  const pieces: Piece[] = [template.subarray(0, 8)];
  sections(template).forEach((s, i) => {
    pieces.push(...sectionPieces(s.id, i === mainSection ? moduleWithImage(s.body, image, globals) : [s.body]));
  });
  return assemble(pieces);
}

function withMinPages(body: Uint8Array, pages: number): Uint8Array {
  const r = new Reader(body);
  if (r.u32() !== 1) throw new SnapshotError('the engine module must define exactly one memory');
  const flags = r.byte();
  if (flags & 0x06) throw new SnapshotError('the engine memory is shared or 64-bit');
  r.u32();
  const w = new Writer().u32(1).byte(flags).u32(pages);
  if (flags & 1) w.u32(r.u32());
  return w.finish();
}

function countImportedGlobals(secs: Section[]): number {
  const imp = secs.find((s) => s.id === 2);
  if (!imp) return 0;
  const r = new Reader(imp.body);
  let globals = 0;
  for (let n = r.u32(); n > 0; n--) {
    r.name();
    r.name();
    const kind = r.byte();
    if (kind === 0x00) r.u32();
    else if (kind === 0x01) {
      r.byte();
      skipLimits(r);
    } else if (kind === 0x02) skipLimits(r);
    else if (kind === 0x03) {
      r.byte();
      r.byte();
      globals++;
    } else if (kind === 0x04) {
      r.byte();
      r.u32();
    } else throw new SnapshotError(`unknown import kind ${kind}`);
  }
  return globals;
}

function skipLimits(r: Reader): void {
  const flags = r.byte();
  r.u32();
  if (flags & 1) r.u32();
}

/** Skips a constant expression (the forms a global's initializer may take). */
function skipConstExpr(r: Reader): void {
  for (;;) {
    const op = r.byte();
    if (op === 0x0b) return;
    if (op === 0x41 || op === 0x42) skipSleb(r);
    else if (op === 0x43) r.take(4);
    else if (op === 0x44) r.take(8);
    else if (op === 0x23 || op === 0xd2) r.u32();
    else if (op === 0xd0) r.s33();
    else if (op === 0xfd) {
      r.u32();
      r.take(16);
    } else if (!((op >= 0x6a && op <= 0x6c) || (op >= 0x7c && op <= 0x7e))) throw new SnapshotError(`unsupported constant expression opcode 0x${op.toString(16)}`);
  }
}

function skipSleb(r: Reader): void {
  while (r.byte() & 0x80);
}

function constExpr(type: number, value: number | bigint): Uint8Array {
  const w = new Writer();
  if (type === 0x7f) w.byte(0x41).s33(Number(value) | 0);
  else if (type === 0x7e) {
    w.byte(0x42);
    let v = BigInt.asIntN(64, BigInt(value));
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
      w.byte(done ? b : b | 0x80);
      if (done) break;
    }
  } else if (type === 0x7d || type === 0x7c) {
    const buf = new DataView(new ArrayBuffer(type === 0x7d ? 4 : 8));
    if (type === 0x7d) buf.setFloat32(0, Number(value), true);
    else buf.setFloat64(0, Number(value), true);
    w.byte(type === 0x7d ? 0x43 : 0x44).bytes(new Uint8Array(buf.buffer));
  } else throw new SnapshotError(`cannot snapshot a mutable global of type 0x${type.toString(16)}`);
  return w.byte(0x0b).finish();
}

function withGlobalValues(body: Uint8Array, imported: number, values: ReadonlyMap<number, number | bigint>): Uint8Array {
  const r = new Reader(body);
  const n = r.u32();
  const parts: Uint8Array[] = [new Writer().u32(n).finish()];
  for (let i = 0; i < n; i++) {
    const type = r.byte();
    const mut = r.byte();
    const start = r.pos;
    skipConstExpr(r);
    const value = values.get(imported + i);
    parts.push(Uint8Array.from([type, mut]), mut && value !== undefined ? constExpr(type, value) : body.subarray(start, r.pos));
  }
  return concatBytes(parts);
}

/** The module with each defined mutable global also exported, and what they were exported as. */
export function exportMutableGlobals(module: Uint8Array): { bytes: Uint8Array; globals: MutableGlobal[] } {
  const secs = sections(module);
  const imported = countImportedGlobals(secs);
  const globals: MutableGlobal[] = [];
  const gs = secs.find((s) => s.id === 6);
  if (gs) {
    const r = new Reader(gs.body);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const type = r.byte();
      const mut = r.byte();
      skipConstExpr(r);
      if (mut) globals.push({ index: imported + i, type, exportName: `${GLOBAL_EXPORT_PREFIX}${imported + i}` });
    }
  }
  const out = secs.map((s) => {
    if (s.id !== 7) return s;
    const r = new Reader(s.body);
    const n = r.u32();
    const extra = globals.map((g) => new Writer().name(g.exportName).byte(0x03).u32(g.index).finish());
    return { id: 7, body: concatBytes([new Writer().u32(n + globals.length).finish(), s.body.subarray(r.pos), ...extra]) };
  });
  return { bytes: moduleFromSections(out), globals };
}
