// componentizeJs and the fixture cache.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { componentTools } from '../../src/build/paths.js';
import { ComponentizeError, componentizeJs, DEFAULT_DISABLED_FEATURES, fixtureHash } from '../../src/build/componentize.js';
import { wasiModeFor } from '../../src/runtime/process/transpile.js';
import { fixture, ROOT } from './helpers.js';

test('a fixture is built once and cached under test/.cache/components/<sha256>.wasm', async () => {
  const bytes = await fixture('echo');
  const installed = (name: string) => `${name}@${JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version}`;
  // jco too: its wit-component wraps what componentize-js makes, and an upgrade gives other bytes
  const tools = `${installed('@bytecodealliance/componentize-js')} ${installed('@bytecodealliance/jco')}`;
  assert.equal(componentTools(), tools);
  const hash = fixtureHash(join(ROOT, 'test/fixtures/processes/echo.js'), join(ROOT, 'wit'), DEFAULT_DISABLED_FEATURES, tools);
  const cached = join(ROOT, 'test', '.cache', 'components', `${hash}.wasm`);
  assert.ok(existsSync(cached), cached);
  assert.deepEqual(new Uint8Array(readFileSync(cached)), bytes);
  // a component (layer 1), not a core module
  assert.deepEqual([...bytes.subarray(0, 8)], [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);
});

test('the hash changes with the source, the WIT features and the tool version', () => {
  const src = join(ROOT, 'test/fixtures/processes/echo.js');
  const wit = join(ROOT, 'wit');
  const base = fixtureHash(src, wit, ['http'], '1');
  assert.notEqual(fixtureHash(join(ROOT, 'test/fixtures/processes/pinger.js'), wit, ['http'], '1'), base);
  assert.notEqual(fixtureHash(src, wit, ['http', 'stdio'], '1'), base);
  assert.notEqual(fixtureHash(src, wit, ['http'], '2'), base);
  assert.equal(fixtureHash(src, wit, ['http'], '1'), base);
});

test('by default stdio, random and clocks stay on; http is off', () => {
  assert.deepEqual([...DEFAULT_DISABLED_FEATURES].sort(), ['fetch-event', 'http']);
  // what such a component imports is served by the host's own WASI provider
  assert.equal(wasiModeFor(['hyperware:process/standard', 'wasi:cli/stderr', 'wasi:io/poll', 'wasi:random/random']), 'lite');
  assert.equal(wasiModeFor(['hyperware:process/standard']), 'none');
  assert.equal(wasiModeFor(['wasi:http/types', 'wasi:io/poll']), 'shim');
});

test('a missing source is a ComponentizeError that names the file', async () => {
  await assert.rejects(
    componentizeJs({ sourcePath: '/nonexistent/proc.js', witPath: join(ROOT, 'wit'), worldName: 'process-v1', outPath: '/tmp/never.wasm' }),
    (e: Error) => e instanceof ComponentizeError && e.message.includes('/nonexistent/proc.js'),
  );
});
