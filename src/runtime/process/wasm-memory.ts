// Capping a guest's linear memory. Worker `resourceLimits` only cover the JS heap, and a Wasm
// memory is an ArrayBuffer outside it, so a runaway guest could take the whole node down. We
// rewrite the memory section of each core module before compiling it so that every memory it
// defines has a maximum: `memory.grow` past it fails, the guest's allocator returns null, and
// the guest aborts on its own (a trap we then report as `memory`). Nothing is checked per call.

import { totalmem } from 'node:os';

export const WASM_PAGE_BYTES = 65536;
/** wasm32's whole address space, and wasmtime's default maximum: what a real node allows. */
export const WASM32_MAX_MEMORY_BYTES = 65536 * WASM_PAGE_BYTES;

/**
 * The default cap on one process's memory: wasm32's 4 GiB, so nothing that runs on a real node
 * traps here, but at most a quarter of this machine's memory (and at least 256 MiB), so one
 * runaway process leaves the machine standing.
 */
export function defaultProcessMemoryBytes(machineBytes = totalmem()): number {
  const quarter = Math.floor(machineBytes / 4 / WASM_PAGE_BYTES) * WASM_PAGE_BYTES;
  return Math.max(256 * 1048576, Math.min(WASM32_MAX_MEMORY_BYTES, quarter));
}

const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;

export class WasmFormatError extends Error {
  override name = 'WasmFormatError';
}

/** The guest needs more memory at start than its limit allows. */
export class MemoryLimitError extends Error {
  override name = 'MemoryLimitError';
  constructor(
    readonly neededBytes: number,
    readonly limitBytes: number,
  ) {
    super(
      `the component needs ${mib(neededBytes)} of memory at start but the limit is ${mib(limitBytes)}; ` +
        'raise memoryLimitBytes',
    );
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

export interface MemoryType {
  /** Pages of 64 KiB. */
  min: number;
  max?: number;
  shared: boolean;
  memory64: boolean;
}

function readLeb(b: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let scale = 1;
  for (;;) {
    if (pos >= b.length) throw new WasmFormatError('truncated LEB128 number');
    const byte = b[pos++];
    result += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return [result, pos];
    scale *= 128;
    if (scale > 2 ** 63) throw new WasmFormatError('LEB128 number too long');
  }
}

function writeLeb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

function readMemoryType(b: Uint8Array, pos: number): [MemoryType, number] {
  const flags = b[pos++];
  if (flags > 0x07) throw new WasmFormatError(`unknown memory limits flags 0x${flags.toString(16)}`);
  let min: number;
  let max: number | undefined;
  [min, pos] = readLeb(b, pos);
  if (flags & 0x01) [max, pos] = readLeb(b, pos);
  return [{ min, max, shared: (flags & 0x02) !== 0, memory64: (flags & 0x04) !== 0 }, pos];
}

function writeMemoryType(m: MemoryType): number[] {
  const flags = (m.max !== undefined ? 0x01 : 0) | (m.shared ? 0x02 : 0) | (m.memory64 ? 0x04 : 0);
  return [flags, ...writeLeb(m.min), ...(m.max !== undefined ? writeLeb(m.max) : [])];
}

interface Section {
  id: number;
  /** Offset of the id byte. */
  start: number;
  contentStart: number;
  end: number;
}

function sections(b: Uint8Array): Section[] {
  if (b.length < 8 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d)
    throw new WasmFormatError('not a WebAssembly binary (bad magic)');
  if (b[4] !== 1 || b[5] !== 0 || b[6] !== 0 || b[7] !== 0)
    throw new WasmFormatError('not a core WebAssembly module (a component? transpile it first)');
  const out: Section[] = [];
  let pos = 8;
  while (pos < b.length) {
    const start = pos;
    const id = b[pos++];
    let size: number;
    [size, pos] = readLeb(b, pos);
    if (pos + size > b.length) throw new WasmFormatError(`section ${id} runs past the end`);
    out.push({ id, start, contentStart: pos, end: pos + size });
    pos += size;
  }
  return out;
}

/** The memories a core module defines (not the ones it imports). */
export function definedMemories(bytes: Uint8Array): MemoryType[] {
  const sec = sections(bytes).find((s) => s.id === SECTION_MEMORY);
  if (!sec) return [];
  let [count, pos] = readLeb(bytes, sec.contentStart);
  const out: MemoryType[] = [];
  while (count-- > 0) {
    let m: MemoryType;
    [m, pos] = readMemoryType(bytes, pos);
    out.push(m);
  }
  return out;
}

/** Whether the module imports a memory (then its maximum is the exporter's business). */
export function importsMemory(bytes: Uint8Array): boolean {
  const sec = sections(bytes).find((s) => s.id === SECTION_IMPORT);
  if (!sec) return false;
  let [count, pos] = readLeb(bytes, sec.contentStart);
  const skipName = (p: number) => {
    const [len, q] = readLeb(bytes, p);
    return q + len;
  };
  while (count-- > 0) {
    pos = skipName(skipName(pos));
    const kind = bytes[pos++];
    if (kind === 0x02) return true;
    if (kind === 0x00) [, pos] = readLeb(bytes, pos); // func: type index
    else if (kind === 0x01) {
      pos++; // table: reftype, then limits
      const flags = bytes[pos++];
      [, pos] = readLeb(bytes, pos);
      if (flags & 0x01) [, pos] = readLeb(bytes, pos);
    } else if (kind === 0x03) pos += 2; // global: valtype, mutability
    else if (kind === 0x04) [, pos] = readLeb(bytes, pos + 1); // tag: attribute, type index
    else throw new WasmFormatError(`unknown import kind 0x${kind.toString(16)}`);
  }
  return false;
}

export interface CapResult {
  bytes: Uint8Array;
  /** Whether any memory's maximum was lowered or added. */
  changed: boolean;
  memories: MemoryType[];
}

/**
 * Give every memory the module defines a maximum of at most `limitBytes` (rounded down to whole
 * pages). Throws MemoryLimitError when a memory's initial size already exceeds it.
 */
export function capMemory(bytes: Uint8Array, limitBytes: number): CapResult {
  const secs = sections(bytes);
  const sec = secs.find((s) => s.id === SECTION_MEMORY);
  if (!sec) return { bytes, changed: false, memories: [] };
  const capPages = Math.floor(limitBytes / WASM_PAGE_BYTES);
  let [count, pos] = readLeb(bytes, sec.contentStart);
  const memories: MemoryType[] = [];
  let changed = false;
  while (count-- > 0) {
    let m: MemoryType;
    [m, pos] = readMemoryType(bytes, pos);
    if (m.memory64) throw new WasmFormatError('64-bit memories are not supported by the process host');
    if (m.min > capPages) throw new MemoryLimitError(m.min * WASM_PAGE_BYTES, limitBytes);
    if (m.max === undefined || m.max > capPages) {
      m = { ...m, max: capPages };
      changed = true;
    }
    memories.push(m);
  }
  if (pos !== sec.end) throw new WasmFormatError('memory section has trailing bytes');
  if (!changed) return { bytes, changed, memories };

  const content = [...writeLeb(memories.length), ...memories.flatMap(writeMemoryType)];
  const header = [SECTION_MEMORY, ...writeLeb(content.length)];
  const out = new Uint8Array(bytes.length - (sec.end - sec.start) + header.length + content.length);
  out.set(bytes.subarray(0, sec.start), 0);
  out.set(header, sec.start);
  out.set(content, sec.start + header.length);
  out.set(bytes.subarray(sec.end), sec.start + header.length + content.length);
  return { bytes: out, changed, memories };
}
