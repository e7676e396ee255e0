// Bodies are bytes; most APIs put JSON in them. JSON here follows Rust serde, which the runtime
// and other packages use: u64 as plain integers (bigint is written exactly), Vec<u8> as arrays of
// numbers (Uint8Array is written that way), Option::None as null. A u64 above 2^53 is read back as
// a bigint (src/core/json.ts), so ids a module picks keep their exact value.

import { isByteArray, parseJsonExact, write } from '../core/json.js';
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

export function jsonBody(value: unknown): Uint8Array {
  return utf8(toJson(value));
}

/**
 * Parse a JSON body; throws JsonDecodeError (with the text) when it is not JSON. An integer beyond
 * 2^53 (a u64 id) comes back as a bigint with its exact value; every other number as a number.
 */
export function parseJson<T = unknown>(body: Uint8Array | string): T {
  const text = typeof body === 'string' ? body : fromUtf8(body);
  try {
    return parseJsonExact(text) as T;
  } catch (e) {
    throw new JsonDecodeError(text, e);
  }
}

/** Whether a value is a byte array (host byte lists inside a component fail `instanceof Uint8Array`). */
export const isBytes = isByteArray;

/** Bytes from a body argument: bytes as is, strings as UTF-8. */
export function toBytes(body: Uint8Array | string): Uint8Array {
  return typeof body === 'string' ? utf8(body) : body;
}
