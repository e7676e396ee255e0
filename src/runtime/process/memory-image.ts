// Compiling a core module's code once for every component that shares it. A JS component's main
// core module is StarlingMonkey (9 MB of code) plus a memory image of the process's evaluated
// source (its data segments); every JS process of the same world has the same code, and each
// `kit watch` rebuild changes only the image. So the host compiles the module without its data
// section, keyed by the code's hash (V8 then shares the compiled code, and the optimized code it
// makes on first calls, between all of them), and the worker writes the segments into the
// instance's memory before anything runs: what instantiating the whole module would do.

import { createHash } from 'node:crypto';
import { type DataSegment, moduleFromSections, Reader, readActiveDataSegments, sections, Writer } from '../../core/wasm-binary.js';

/** A module's data segments, packed into one shared buffer so that workers read them without a copy. */
export interface MemoryImage {
  /** The export under which the instance's memory 0 is found. */
  memoryExport: string;
  /** The memory's initial size in pages, which the code module leaves at 0. */
  pages: number;
  data: SharedArrayBuffer;
  /** Triples: memory offset, offset in `data`, length. */
  segments: Uint32Array;
}

export interface SplitModule {
  /** sha256 of the module without its data: what compiled code is cached by. */
  codeSha: string;
  /** The module without its data (and data count) section, its memory starting empty; made only when asked for. */
  code(): Uint8Array;
  /** Pages memory 0 starts with (in the whole module). */
  minPages: number;
  image: MemoryImage;
}

const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;
const SECTION_EXPORT = 7;
const SECTION_DATA = 11;
const SECTION_DATA_COUNT = 12;

/**
 * The hash of a module's code: every section but data and data count, and of the memory section
 * only the memories' kinds and maximums (initial sizes come with the image). Two modules with
 * one code hash compile to the same code.
 */
export function codeHash(module: Uint8Array): string {
  const h = createHash('sha256');
  for (const s of sections(module)) {
    if (s.id === SECTION_DATA || s.id === SECTION_DATA_COUNT) continue;
    const body = s.id === SECTION_MEMORY ? withMinPages(s.body, 0) : s.body;
    h.update(Uint8Array.of(s.id)).update(String(body.length)).update(body);
  }
  return h.digest('hex');
}

/**
 * The module split into code and memory image, or undefined when it cannot be split faithfully:
 * no data, data that is not all active i32.const segments of memory 0, an imported memory, more
 * than one memory, or a memory 0 that is not exported (the worker needs it to write the image).
 * The code module's memory starts empty: the worker grows it to the image's size.
 */
export function splitModule(module: Uint8Array, knownCodeHash?: string): SplitModule | undefined {
  const secs = sections(module);
  const data = secs.find((s) => s.id === SECTION_DATA);
  const memory = secs.find((s) => s.id === SECTION_MEMORY);
  if (!data || !memory) return undefined;
  if (importsAMemory(secs)) return undefined;
  const r = new Reader(memory.body);
  if (r.u32() !== 1 || r.byte() & 0x06) return undefined; // one plain 32-bit memory only
  const minPages = r.u32();
  const memoryExport = exportOfMemoryZero(secs);
  if (memoryExport === undefined) return undefined;
  const segments = readActiveDataSegments(data.body);
  if (!segments || segments.length === 0) return undefined;
  const kept = secs
    .filter((s) => s.id !== SECTION_DATA && s.id !== SECTION_DATA_COUNT)
    .map((s) => (s.id === SECTION_MEMORY ? { id: s.id, body: withMinPages(s.body, 0) } : s));
  return {
    codeSha: knownCodeHash ?? codeHash(module),
    code: () => moduleFromSections(kept),
    minPages,
    image: packImage(memoryExport, minPages, segments),
  };
}

/** A one-memory memory section with another initial size. */
function withMinPages(body: Uint8Array, pages: number): Uint8Array {
  const r = new Reader(body);
  const n = r.u32();
  if (n !== 1) return body;
  const flags = r.byte();
  r.u32();
  const w = new Writer().u32(1).byte(flags).u32(pages);
  if (flags & 1) w.u32(r.u32());
  return w.finish();
}

function packImage(memoryExport: string, pages: number, segments: DataSegment[]): MemoryImage {
  const total = segments.reduce((n, s) => n + s.bytes.length, 0);
  const data = new SharedArrayBuffer(total);
  const view = new Uint8Array(data);
  const triples = new Uint32Array(segments.length * 3);
  let at = 0;
  segments.forEach((s, i) => {
    view.set(s.bytes, at);
    triples[3 * i] = s.offset;
    triples[3 * i + 1] = at;
    triples[3 * i + 2] = s.bytes.length;
    at += s.bytes.length;
  });
  return { memoryExport, pages, data, segments: triples };
}

/**
 * Writes the image into the instance's memory, in segment order, as instantiation would; a
 * segment past the memory's end fails the same way ("data segment is out of bounds").
 */
export function applyMemoryImage(exports: Record<string, unknown>, image: MemoryImage): void {
  const memory = exports[image.memoryExport] as { buffer: ArrayBuffer; grow(pages: number): number } | undefined;
  if (!memory?.buffer) throw new Error(`the module's memory is not exported as ${image.memoryExport}`);
  const have = memory.buffer.byteLength / 65536;
  if (have < image.pages) memory.grow(image.pages - have);
  const target = new Uint8Array(memory.buffer);
  const source = new Uint8Array(image.data);
  const s = image.segments;
  for (let i = 0; i < s.length; i += 3) {
    const [offset, from, length] = [s[i], s[i + 1], s[i + 2]];
    if (offset + length > target.length) throw new Error('data segment is out of bounds');
    target.set(source.subarray(from, from + length), offset);
  }
}

function importsAMemory(secs: ReturnType<typeof sections>): boolean {
  const imp = secs.find((s) => s.id === SECTION_IMPORT);
  if (!imp) return false;
  const r = new Reader(imp.body);
  for (let n = r.u32(); n > 0; n--) {
    r.name();
    r.name();
    const kind = r.byte();
    if (kind === 0x02) return true;
    if (kind === 0x00) r.u32();
    else if (kind === 0x01) {
      r.byte(); // reftype, then limits
      const flags = r.byte();
      r.u32();
      if (flags & 1) r.u32();
    } else if (kind === 0x03) r.take(2);
    else if (kind === 0x04) {
      r.byte();
      r.u32();
    } else return true; // unknown: do not split
  }
  return false;
}

function exportOfMemoryZero(secs: ReturnType<typeof sections>): string | undefined {
  const exp = secs.find((s) => s.id === SECTION_EXPORT);
  if (!exp) return undefined;
  const r = new Reader(exp.body);
  for (let n = r.u32(); n > 0; n--) {
    const name = r.name();
    const kind = r.byte();
    const index = r.u32();
    if (kind === 0x02 && index === 0) return name;
  }
  return undefined;
}
