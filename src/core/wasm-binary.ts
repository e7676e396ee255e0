// Reading and writing the WebAssembly binary format at the level of sections: a module's or
// component's sections as (id, bytes) spans, LEB128 numbers and names. Enough for kit to look for
// a custom section, to assemble a component from parts (compose.ts), to swap a core module's
// memory image (build/dev) and to split a module's code from its data (the process host).

import { concatBytes } from './bytes.js';

const MAGIC = [0x00, 0x61, 0x73, 0x6d];

export interface Section {
  id: number;
  /** The section's contents (without id and size). */
  body: Uint8Array;
}

export class Reader {
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  byte(): number {
    if (this.pos >= this.end) throw new Error('unexpected end of WebAssembly binary');
    return this.bytes[this.pos++];
  }

  peek(): number {
    if (this.pos >= this.end) throw new Error('unexpected end of WebAssembly binary');
    return this.bytes[this.pos];
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new Error('malformed LEB128 number');
    }
  }

  /** A signed LEB128 of up to 33 bits (valtypes use one for "primitive or type index"). */
  s33(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    if (b & 0x40) result -= 2 ** shift;
    return result;
  }

  take(n: number): Uint8Array {
    if (this.pos + n > this.end) throw new Error('unexpected end of WebAssembly binary');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  name(): string {
    return new TextDecoder().decode(this.take(this.u32()));
  }
}

export class Writer {
  private chunks: number[] = [];

  byte(b: number): this {
    this.chunks.push(b);
    return this;
  }

  u32(n: number): this {
    do {
      let b = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) b |= 0x80;
      this.chunks.push(b);
    } while (n > 0);
    return this;
  }

  s33(n: number): this {
    for (;;) {
      const b = ((n % 128) + 128) % 128;
      n = Math.floor(n / 128);
      const done = (n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0);
      this.chunks.push(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  bytes(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.chunks.push(b[i]);
    return this;
  }

  name(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.u32(b.length).bytes(b);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** Whether `bytes` is a component (layer 1) rather than a core module. */
export function isComponentBinary(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && MAGIC.every((b, i) => bytes[i] === b) && bytes[6] === 0x01 && bytes[7] === 0x00;
}

/** The top-level sections of a module or component. */
export function sections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || !MAGIC.every((b, i) => bytes[i] === b)) throw new Error('not a WebAssembly binary');
  const r = new Reader(bytes, 8);
  const out: Section[] = [];
  while (!r.done) {
    const id = r.byte();
    const size = r.u32();
    out.push({ id, body: r.take(size) });
  }
  return out;
}

/** The names of a binary's custom sections (e.g. `component-type:…`, which wit-bindgen writes). */
export function customSectionNames(bytes: Uint8Array): string[] {
  return sections(bytes)
    .filter((s) => s.id === 0)
    .map((s) => new Reader(s.body).name());
}

function fromSections(header: readonly number[], parts: ReadonlyArray<{ id: number; body: Uint8Array }>): Uint8Array {
  const chunks: Uint8Array[] = [Uint8Array.from(header)];
  for (const s of parts) chunks.push(new Writer().byte(s.id).u32(s.body.length).finish(), s.body);
  return concatBytes(chunks);
}

/** A component binary from its sections (header: `\0asm`, version 0x0d, layer 1). */
export function componentFromSections(parts: ReadonlyArray<{ id: number; body: Uint8Array }>): Uint8Array {
  return fromSections([...MAGIC, 0x0d, 0x00, 0x01, 0x00], parts);
}

/** A core module binary from its sections (header: `\0asm`, version 1). */
export function moduleFromSections(parts: ReadonlyArray<{ id: number; body: Uint8Array }>): Uint8Array {
  return fromSections([...MAGIC, 0x01, 0x00, 0x00, 0x00], parts);
}

/** An active data segment of memory 0: `bytes` go to `offset` when the module is instantiated. */
export interface DataSegment {
  offset: number;
  bytes: Uint8Array;
}

const OP_I32_CONST = 0x41;
const OP_END = 0x0b;

/**
 * The segments of a data section, if every one is active, on memory 0 and at an `i32.const`
 * offset (what compilers and wizer write); undefined for anything else (passive segments,
 * other memories, offsets from globals).
 */
export function readActiveDataSegments(body: Uint8Array): DataSegment[] | undefined {
  const r = new Reader(body);
  const n = r.u32();
  const out: DataSegment[] = [];
  for (let i = 0; i < n; i++) {
    if (r.u32() !== 0) return undefined; // 1 = passive, 2 = explicit memory index
    if (r.byte() !== OP_I32_CONST) return undefined;
    const offset = r.s33() >>> 0;
    if (r.byte() !== OP_END) return undefined;
    out.push({ offset, bytes: r.take(r.u32()) });
  }
  return out;
}

/** A data section of active memory-0 segments. */
export function encodeDataSection(segments: readonly DataSegment[]): Uint8Array {
  const chunks: Uint8Array[] = [new Writer().u32(segments.length).finish()];
  for (const s of segments) {
    // i32.const takes a signed LEB128: offsets of 2 GiB and up are written as negatives.
    chunks.push(new Writer().u32(0).byte(OP_I32_CONST).s33(s.offset | 0).byte(OP_END).u32(s.bytes.length).finish(), s.bytes);
  }
  return concatBytes(chunks);
}

/** A top-level custom section every development component carries (kit build --dev); publish refuses them. */
export const DEV_BUILD_SECTION = 'kit-development-build';

/** Whether a component was made by a development build (its last sections are checked first). */
export function isDevelopmentBuild(bytes: Uint8Array): boolean {
  try {
    return customSectionNames(bytes).includes(DEV_BUILD_SECTION);
  } catch {
    return false;
  }
}
