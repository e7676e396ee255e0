// Unit tests of the memory cap: the rewritten module must really refuse to grow past the cap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Wasm, type WasmMemory } from '../../src/runtime/process/wasm-api.js';
import {
  capMemory,
  definedMemories,
  importsMemory,
  MemoryLimitError,
  WASM_PAGE_BYTES,
  WasmFormatError,
} from '../../src/runtime/process/wasm-memory.js';

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const EXPORT_MEM = [0x07, 0x07, 0x01, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00]; // export "mem" = memory 0

/** A module with one memory of `min` pages (and `max`, if given), exported as "mem". */
function moduleWithMemory(min: number, max?: number): Uint8Array {
  const limits = max === undefined ? [0x00, min] : [0x01, min, max];
  return new Uint8Array([...HEADER, 0x05, limits.length + 1, 0x01, ...limits, ...EXPORT_MEM]);
}

function memoryOf(bytes: Uint8Array): WasmMemory & { grow(pages: number): number } {
  const instance = new Wasm.Instance(new Wasm.Module(bytes));
  return instance.exports.mem as WasmMemory & { grow(pages: number): number };
}

test('a memory without a maximum gets the cap, and growing past it fails', () => {
  const capped = capMemory(moduleWithMemory(2), 4 * WASM_PAGE_BYTES);
  assert.equal(capped.changed, true);
  assert.deepEqual(definedMemories(capped.bytes), [{ min: 2, max: 4, shared: false, memory64: false }]);
  const mem = memoryOf(capped.bytes);
  assert.equal(mem.grow(2), 2);
  assert.throws(() => mem.grow(1), RangeError);
  assert.equal(mem.buffer.byteLength, 4 * WASM_PAGE_BYTES);
});

test('the uncapped module grows freely (the cap is what stops it)', () => {
  const mem = memoryOf(moduleWithMemory(2));
  assert.equal(mem.grow(8), 2);
});

test('a lower maximum already in the module is kept; a higher one is lowered', () => {
  const lower = capMemory(moduleWithMemory(1, 3), 10 * WASM_PAGE_BYTES);
  assert.equal(lower.changed, false);
  assert.equal(lower.bytes, lower.bytes);
  assert.deepEqual(definedMemories(lower.bytes)[0], { min: 1, max: 3, shared: false, memory64: false });
  const higher = capMemory(moduleWithMemory(1, 100), 5 * WASM_PAGE_BYTES);
  assert.equal(definedMemories(higher.bytes)[0].max, 5);
});

test('a cap below the initial size is refused with what was needed', () => {
  assert.throws(
    () => capMemory(moduleWithMemory(8), 2 * WASM_PAGE_BYTES),
    (e: Error) => e instanceof MemoryLimitError && e.neededBytes === 8 * WASM_PAGE_BYTES && /raise memoryLimitBytes/.test(e.message),
  );
});

test('modules without memory pass through; non-modules are refused', () => {
  const bare = new Uint8Array(HEADER);
  assert.deepEqual(capMemory(bare, WASM_PAGE_BYTES), { bytes: bare, changed: false, memories: [] });
  assert.equal(importsMemory(bare), false);
  assert.throws(() => capMemory(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), WASM_PAGE_BYTES), WasmFormatError);
  // a component (layer 1) is not a core module
  assert.throws(
    () => capMemory(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]), WASM_PAGE_BYTES),
    /a component\?/,
  );
});

test('an imported memory is recognised', () => {
  // import "env" "mem" (memory 1)
  const imp = [0x02, 0x0c, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x01];
  assert.equal(importsMemory(new Uint8Array([...HEADER, ...imp])), true);
});
