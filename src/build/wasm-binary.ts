// Reading and writing the WebAssembly binary format at the level of sections: a module's or
// component's sections as (id, bytes) spans, LEB128 numbers and names. Enough for kit to look for
// a custom section and to assemble a component from parts (compose.ts).

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

/** A component binary from its sections (header: `\0asm`, version 0x0d, layer 1). */
export function componentFromSections(parts: Array<{ id: number; body: Uint8Array }>): Uint8Array {
  const header = [...MAGIC, 0x0d, 0x00, 0x01, 0x00];
  let size = header.length;
  const encoded = parts.map((s) => {
    const head = new Writer().byte(s.id).u32(s.body.length).finish();
    size += head.length + s.body.length;
    return [head, s.body];
  });
  const out = new Uint8Array(size);
  out.set(header);
  let at = header.length;
  for (const [head, body] of encoded) {
    out.set(head, at);
    at += head.length;
    out.set(body, at);
    at += body.length;
  }
  return out;
}
