// The composer (src/build/compose.ts) on small components made here from WAT with jco's
// wasm-tools: the composed component is validated and run by jco, and the importer's calls reach
// the exporter's code. The two components import the same host interface with different
// functions, so the composed import must carry both (the union case).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { compose, nonStandardInterfaces } from '../../src/build/compose.js';
import { loadJco } from '../../src/build/jco.js';

const APP_WIT = `package test:compose@1.0.0;
interface host { log: func(x: u32); }
interface lib { add: func(a: u32, b: u32) -> u32; }
world app { import host; import lib; export run: func(a: u32, b: u32) -> u32; }
`;
// The library's view of the same host interface has another function.
const LIB_WIT = `package test:compose@1.0.0;
interface host { twice: func(x: u32) -> u32; }
interface lib { add: func(a: u32, b: u32) -> u32; }
world library { import host; export lib; }
`;
const APP_WAT = `(module
  (import "test:compose/host@1.0.0" "log" (func $log (param i32)))
  (import "test:compose/lib@1.0.0" "add" (func $add (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (param i32 i32) (result i32)
    (call $log (local.get 0))
    (call $add (local.get 0) (local.get 1))))`;
// add(a, b) = host.twice(a) + b
const LIB_WAT = `(module
  (import "test:compose/host@1.0.0" "twice" (func $twice (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "test:compose/lib@1.0.0#add") (param i32 i32) (result i32)
    (i32.add (call $twice (local.get 0)) (local.get 1))))`;

async function component(wat: string, wit: string, world: string): Promise<Uint8Array> {
  const jco = await loadJco();
  const core = await jco.parse(wat);
  return jco.componentNew(await jco.componentEmbed({ binary: core, witSource: wit, world }), []);
}

// Node has the WebAssembly global; this project's TypeScript libs do not declare it.
const Wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<unknown> } }).WebAssembly;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('composing components', () => {
  it('satisfies the importer with the exporter, merges their shared import, and runs', async () => {
    const app = await component(APP_WAT, APP_WIT, 'app');
    const lib = await component(LIB_WAT, LIB_WIT, 'library');
    assert.deepEqual(nonStandardInterfaces(app), { imports: ['test:compose/host@1.0.0', 'test:compose/lib@1.0.0'], exports: [] });
    assert.deepEqual(nonStandardInterfaces(lib).exports, ['test:compose/lib@1.0.0']);

    const { bytes, satisfied } = compose(app, lib);
    assert.deepEqual(satisfied, ['test:compose/lib@1.0.0']);
    assert.deepEqual(nonStandardInterfaces(bytes), { imports: ['test:compose/host@1.0.0'], exports: [] }, 'only the host import is left');

    // jco validates the component while transpiling it, then it runs in this process.
    const jco = await loadJco();
    const out = await jco.transpile(bytes, { name: 'composed', instantiation: 'async' });
    const dir = mkdtempSync(join(tmpdir(), 'kit-compose-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    for (const [name, content] of Object.entries(out.files)) writeFileSync(join(dir, name.replaceAll('/', '_')), content);
    const types = readFileSync(join(dir, 'interfaces_test-compose-host.d.ts'), 'utf8');
    assert.match(types, /export function log\(/, 'the merged host import has the importer’s function');
    assert.match(types, /export function twice\(/, 'and the exporter’s');
    const logged: number[] = [];
    const host = { log: (x: number) => void logged.push(x), twice: (x: number) => 2 * x };
    const { instantiate } = await import(pathToFileURL(join(dir, 'composed.js')).href);
    const root = await instantiate((name: string) => Wasm.compile(readFileSync(join(dir, name))), {
      'test:compose/host': host,
      'test:compose/host@1.0.0': host,
    });
    assert.equal(root.run(20, 2), 42, "run(a, b) = the library's add: host.twice(a) + b");
    assert.deepEqual(logged, [20]);
  });

  it('leaves a component that imports nothing the other exports as it is', async () => {
    const lib = await component(LIB_WAT, LIB_WIT, 'library');
    const r = compose(lib, lib);
    assert.deepEqual(r.satisfied, []);
    assert.equal(r.bytes, lib);
  });
});
