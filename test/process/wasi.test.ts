// Unit tests of the worker's small WASI provider: what a crash report keeps of stderr.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collapseRepeats, createWasiLite, RingText, wasiLiteCovers } from '../../src/runtime/process/wasi.js';
import { utf8 } from '../../src/core/types.js';

test('stderr keeps its first and last bytes and says how much it skipped', () => {
  const ring = new RingText(20, 10);
  ring.push(utf8('HEAD-0123456789'));
  for (let i = 0; i < 50; i++) ring.push(utf8(`line${i}.`));
  const t = ring.text();
  assert.ok(t.startsWith('HEAD-01234'), t);
  assert.ok(t.endsWith('line49.'), t);
  assert.match(t, /\[\.\.\. \d+ bytes \.\.\.\]/);
});

test('a short stderr comes back whole', () => {
  const ring = new RingText(5000);
  ring.push(utf8('too much recursion\n'));
  ring.push(utf8('Stack:\n'));
  assert.equal(ring.text(), 'too much recursion\nStack:\n');
});

test('repeated stack frames are collapsed', () => {
  assert.equal(collapseRepeats('err\n  f@x:1\n  f@x:1\n  f@x:1\nend'), 'err\n  f@x:1\n  [same line 2 more times]\nend');
});

test('stdout arrives as whole lines', () => {
  const lines: string[] = [];
  const wasi = createWasiLite({ onStdoutLine: (l) => lines.push(l) });
  const stdout = (wasi.imports['wasi:cli/stdout'].getStdout as () => { write(b: Uint8Array): void })();
  stdout.write(utf8('hel'));
  stdout.write(utf8('lo\nwor'));
  stdout.write(utf8('ld'));
  assert.deepEqual(lines, ['hello']);
  wasi.flush();
  assert.deepEqual(lines, ['hello', 'world']);
});

test('which imports the lite provider covers', () => {
  assert.equal(wasiLiteCovers('wasi:cli/stderr'), true);
  assert.equal(wasiLiteCovers('wasi:clocks/wall-clock@0.2.12'), true);
  assert.equal(wasiLiteCovers('wasi:http/outgoing-handler'), false);
  assert.equal(wasiLiteCovers('wasi:sockets/tcp'), false);
});
