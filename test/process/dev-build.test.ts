// Development builds (kit build --dev, kit watch, kit run-tests) against componentize-js builds
// of the same source: the same component in every part but the memory image, and the same
// engine behaviour seen from inside the process (test/fixtures/processes/report.js). Also the
// host's sharing: two components of one shape share one transpile, and one compiled engine.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { engineKey } from '../../src/build/dev/engine.js';
import { componentTools } from '../../src/build/paths.js';
import { DEV_BUILD_SECTION, customSectionNames, isDevelopmentBuild, sections } from '../../src/core/wasm-binary.js';
import { componentShape } from '../../src/runtime/process/transpile.js';
import { addr, bodyOf, closeDevFixtures, devFixture, fixture, newHost, Router, request } from './helpers.js';

let release: Uint8Array;
let dev: Uint8Array;
const host = newHost(2);
const router = new Router(host);

before(async () => {
  release = await fixture('report');
  dev = await devFixture('report');
});
after(async () => {
  await host.close();
  await closeDevFixtures();
});

/** The component's first core module: StarlingMonkey with the evaluated source in its memory. */
function mainModule(component: Uint8Array) {
  return sections(sections(component).find((s) => s.id === 1)!.body);
}

test('a development component has the shape of the componentize-js one: same types, imports, exports, code', () => {
  const a = componentShape(release);
  const b = componentShape(dev);
  assert.ok(a && b, 'both are components');
  assert.equal(b.hash, a.hash);
  assert.equal(b.modules.length, a.modules.length);
  // the adapter and shim modules are byte for byte the same
  for (let i = 1; i < a.modules.length; i++) assert.ok(Buffer.from(b.modules[i]).equals(a.modules[i]), `core module ${i} differs`);
});

test('its engine module differs only in memory size, data count and data (the snapshot)', () => {
  const a = mainModule(release);
  const b = mainModule(dev);
  assert.deepEqual(
    b.map((s) => s.id),
    a.map((s) => s.id),
  );
  const differing = a.flatMap((s, i) => (Buffer.from(s.body).equals(b[i].body) ? [] : [s.id]));
  // 5 memory (its initial size), 12 data count, 11 data
  assert.ok(differing.every((id) => [5, 11, 12].includes(id)), `sections ${differing.join(', ')} differ`);
  assert.ok(differing.includes(11), 'the data differs, as between two componentize-js builds');
});

// A kit upgrade that brings another jco must not find the engine (or the world signature) the old
// jco made: its template is wrapped by the old wit-component and gives another component shape
// (what an upgraded machine's /tmp/hyperdrive-kit-cache did to run-tests' echo build).
test('engines are keyed by the versions of componentize-js and jco that make them', () => {
  const tools = componentTools(); // both versions, as test/process/componentize.test.ts checks
  const features = ['stdio', 'random', 'clocks'] as const;
  const key = engineKey('signature', features);
  assert.equal(key, engineKey('signature', features, tools));
  assert.notEqual(key, engineKey('signature', features, tools.replace(/jco@[^ ]+/, 'jco@0.0.1')));
  assert.notEqual(key, engineKey('signature', features, tools.replace(/componentize-js@[^ ]+/, 'componentize-js@0.0.1')));
});

test('a development component says so in a custom section; a componentize-js one does not', () => {
  assert.ok(isDevelopmentBuild(dev));
  assert.ok(customSectionNames(dev).includes(DEV_BUILD_SECTION));
  assert.equal(isDevelopmentBuild(release), false);
});

test('the process observes the same engine either way', async () => {
  const ask = async (name: string, wasm: Uint8Array, id: bigint) => {
    const proc = await router.start(name, wasm);
    const answers: unknown[] = [];
    for (const n of [0n, 1n]) {
      const mark = router.sent.length;
      proc.deliver(request('report', { id: id + n, to: addr(name), expects: 5 }));
      const { km } = await router.nextSent((s) => s.km.id === id + n, `${name}'s report`, mark);
      answers.push(JSON.parse(bodyOf(km)));
    }
    await proc.kill();
    return answers;
  };
  const fromRelease = await ask('report-release', release, 100n);
  const fromDev = await ask('report-dev', dev, 200n);
  assert.deepEqual(fromDev, fromRelease);
  const first = fromRelease[0] as Record<string, unknown>;
  // the fixture really looked: its top level ran once, before start, and errors point into it
  assert.equal(first.topLevelRuns, 1);
  assert.equal(first.madeBeforeStart, true);
  assert.match(JSON.stringify(first.error), /thrower@.*report\.js:\d+:\d+/);
});

test('processes of one shape share the transpiled glue and the compiled engine code', async () => {
  const a = await host.prepare(release);
  const b = await host.prepare(dev);
  assert.equal(b.transpiled.gluePath, a.transpiled.gluePath);
  const main = a.transpiled.cores[0].name;
  assert.equal(b.modules[main], a.modules[main], 'one compiled module for both');
  assert.ok(a.images[main] && b.images[main], 'each brings its own memory image');
});
