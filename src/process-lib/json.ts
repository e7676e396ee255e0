// Bodies are bytes; most APIs put JSON in them. JSON here follows Rust serde, which the runtime
// and other packages use: u64 as plain integers (bigint is written exactly), Vec<u8> as arrays of
// numbers (Uint8Array is written that way), Option::None as null.

import { JsonDecodeError } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** JSON text with bigint written as integers and Uint8Array as number arrays. */
export function toJson(value: unknown): string {
  const text = write(value);
  if (text === undefined) throw new TypeError(`cannot encode ${typeof value} as JSON`);
  return text;
}

// JSON.stringify cannot write a bigint as a bare integer, hence this small writer of our own.
function write(v: unknown): string | undefined {
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
  if (isBytes(v)) return `[${Array.prototype.join.call(v, ',')}]`;
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

export function jsonBody(value: unknown): Uint8Array {
  return utf8(toJson(value));
}

/** Parse a JSON body; throws JsonDecodeError (with the text) when it is not JSON. */
export function parseJson<T = unknown>(body: Uint8Array | string): T {
  const text = typeof body === 'string' ? body : fromUtf8(body);
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new JsonDecodeError(text, e);
  }
}

/**
 * Whether a value is a byte array. Not `instanceof Uint8Array`: inside a component, byte lists
 * from the host are typed arrays that fail that check.
 */
export function isBytes(v: unknown): v is Uint8Array {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && (v as Uint8Array).BYTES_PER_ELEMENT === 1;
}

/** Bytes from a body argument: bytes as is, strings as UTF-8. */
export function toBytes(body: Uint8Array | string): Uint8Array {
  return typeof body === 'string' ? utf8(body) : body;
}
