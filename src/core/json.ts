// JSON as Rust's serde_json reads and writes it, without JavaScript's loss of precision: a u64
// (a transaction id, a subscription id a process picked, a duration) can exceed 2^53, where a JS
// number silently rounds. Parsing gives such integers as bigint (every other number as a number),
// writing puts a bigint down as a bare integer. JSON.parse and JSON.stringify do the work whenever
// they can: the own parser runs only on text that holds a run of 16 or more digits.

/** Integers with this many digits or more may not fit a JS number exactly. */
const LONG_DIGITS = /\d{16}/;

export class JsonSyntaxError extends SyntaxError {
  override name = 'JsonSyntaxError';
}

/**
 * JSON.parse, except that an integer literal outside ±(2^53-1) becomes a bigint. Throws
 * SyntaxError on text that is not JSON, as JSON.parse does.
 */
export function parseJsonExact(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  const p = new Parser(text);
  p.space();
  const v = p.value(0);
  p.space();
  if (p.i < text.length) p.fail('unexpected text after the JSON value');
  return v;
}

/** JSON text with bigints written as bare integers and byte arrays as arrays of numbers. */
export function stringifyJsonExact(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
  }
  return write(value) ?? 'null';
}

/** A u64 as parsed by parseJsonExact: a non-negative safe integer or a bigint below 2^64. */
export function isU64(v: unknown): v is number | bigint {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0;
  return typeof v === 'bigint' && v >= 0n && v < 1n << 64n;
}

/** An i64 as parsed by parseJsonExact. */
export function isI64(v: unknown): v is number | bigint {
  if (typeof v === 'number') return Number.isSafeInteger(v);
  return typeof v === 'bigint' && v >= -(1n << 63n) && v < 1n << 63n;
}

/**
 * Whether a value is a byte array. Not `instanceof Uint8Array`: inside a component, byte lists
 * from the host are typed arrays that fail that check.
 */
export function isByteArray(v: unknown): v is Uint8Array {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && (v as Uint8Array).BYTES_PER_ELEMENT === 1;
}

/** The writer behind stringifyJsonExact; also serves process-lib, which writes byte arrays as serde does. */
export function write(v: unknown): string | undefined {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'bigint':
      return v.toString();
    case 'number':
    case 'string':
    case 'boolean':
      return JSON.stringify(v);
    case 'object':
      break;
    default:
      return undefined; // undefined, functions and symbols are left out, as JSON.stringify does
  }
  if (isByteArray(v)) return `[${Array.prototype.join.call(v, ',')}]`;
  if (Array.isArray(v)) return `[${v.map((x) => write(x) ?? 'null').join(',')}]`;
  const withToJson = v as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function') return write(withToJson.toJSON());
  const parts: string[] = [];
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const w = write(x);
    if (w !== undefined) parts.push(`${JSON.stringify(k)}:${w}`);
  }
  return `{${parts.join(',')}}`;
}

const MAX_DEPTH = 512;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

class Parser {
  i = 0;
  constructor(private readonly s: string) {}

  fail(why: string): never {
    throw new JsonSyntaxError(`${why} at position ${this.i} of the JSON text`);
  }

  space(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.i++;
    }
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail('JSON nested too deeply');
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.fail(c === undefined ? 'unexpected end of JSON text' : `unexpected ${JSON.stringify(c)}`);
  }

  private object(depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.i++;
    this.space();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      if (this.s[this.i] !== '"') this.fail('expected a property name');
      const key = this.string();
      this.space();
      if (this.s[this.i] !== ':') this.fail("expected ':'");
      this.i++;
      this.space();
      const v = this.value(depth + 1);
      // As JSON.parse: a later duplicate wins, and "__proto__" is an ordinary key.
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      this.space();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') this.fail("expected ',' or '}'");
      this.space();
    }
  }

  private array(depth: number): unknown[] {
    const out: unknown[] = [];
    this.i++;
    this.space();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.space();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') this.fail("expected ',' or ']'");
      this.space();
    }
  }

  private string(): string {
    // Find the closing quote, then let JSON.parse decode the escapes.
    const s = this.s;
    let j = this.i + 1;
    for (;;) {
      const c = s.charCodeAt(j);
      if (Number.isNaN(c)) this.fail('unterminated string');
      if (c === 0x22) break;
      if (c === 0x5c) j++;
      else if (c < 0x20) this.fail('control character in a string');
      j++;
    }
    const text = s.slice(this.i, j + 1);
    this.i = j + 1;
    try {
      return JSON.parse(text) as string;
    } catch (e) {
      return this.fail((e as Error).message);
    }
  }

  private number(): number | bigint {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (!m) this.fail('bad number');
    this.i += m[0].length;
    const n = Number(m[0]);
    if (m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(n)) return BigInt(m[0]);
    return n;
  }
}
