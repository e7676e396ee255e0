// kit build without componentize-js: bad input, WIT errors, world choice, flags, and the
// incremental bookkeeping (with a stand-in componentize; the real one is in build.test.ts).

import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import { type BuildOptions, buildPackage } from '../../src/build/build.js';
import { detectProcesses, makeFilter } from '../../src/build/detect.js';
import { BuildError, CompileError, FlagError, PackageLayoutError, ToolchainError, WitError } from '../../src/build/errors.js';
import { createProgress } from '../../src/build/progress.js';
import { featuresFor } from '../../src/build/rust.js';
import { chooseWorld, worldsIn } from '../../src/build/wit.js';
import { KitError } from '../../src/cli/errors.js';
import { MetadataError } from '../../src/package/metadata.js';
import { fakeComponentize, isComponent, MANIFEST, metadataJson, writeFiles, writePackage } from './helpers.js';

const dirs: string[] = [];
const componentCacheDir = writePackage({}, 'kit-build-cache-');
dirs.push(componentCacheDir);
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function pkg(files: Record<string, string>): string {
  const dir = writePackage(files);
  dirs.push(dir);
  return dir;
}

const quiet = (extra: BuildOptions = {}): BuildOptions => ({ progress: null, logger: silentLogger(), componentCacheDir, ...extra });

function silentLogger(lines: string[] = []) {
  const make = (): import('../../src/core/log.js').Logger => ({
    debug: () => {},
    info: (m) => lines.push(m),
    warning: (m) => lines.push(`warning: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
    child: () => make(),
  });
  return make();
}

const API_WIT = `interface greeter {
  variant request {
    hello(string),
  }
}

world greet-kit-tests-dot-os-v0 {
  import greeter;
  include process-v1;
}
`;

const TS_PROCESS = (name: string) => `import { printToTerminal, receive } from 'hyperware:process/standard@1.0.0';
import { shout } from '../../shared/util.js';

export function init(our: string): void {
  printToTerminal(0, shout('${name} begins at ' + our));
  for (;;) receive();
}
`;

function twoProcessPackage(): string {
  return pkg({
    'metadata.json': metadataJson('greet', 'kit-tests.os'),
    'pkg/manifest.json': MANIFEST(['alpha', 'beta']),
    'api/greet:kit-tests.os-v0.wit': API_WIT,
    'alpha/src/lib.ts': TS_PROCESS('alpha'),
    'beta/src/lib.ts': TS_PROCESS('beta'),
    'shared/util.ts': 'export function shout(s: string): string {\n  return s.toUpperCase();\n}\n',
  });
}

describe('kit build: bad input', () => {
  it('names metadata.json when it is missing', async () => {
    const dir = pkg({ 'pkg/manifest.json': '[]', 'a/src/lib.js': 'export function init() {}\n' });
    const err = await buildPackage(quiet({ dir })).then(
      () => assert.fail('built a folder without metadata.json'),
      (e) => e,
    );
    assert.ok(err instanceof MetadataError, String(err));
    assert.match(err.message, /metadata\.json/);
    assert.ok(err.hint, 'says what to do');
  });

  it('says pkg/ is missing', async () => {
    const dir = pkg({ 'metadata.json': metadataJson('x', 'kit-tests.os'), 'a/src/lib.js': 'export function init() {}\n' });
    await assert.rejects(buildPackage(quiet({ dir })), (e: Error) => e instanceof PackageLayoutError && /pkg/.test(e.message));
  });

  it('says pkg/manifest.json is missing, before building anything', async () => {
    const dir = pkg({ 'metadata.json': metadataJson('x', 'kit-tests.os'), 'pkg/scripts.json': '[]', 'a/src/lib.js': 'export function init() {}\n' });
    await assert.rejects(buildPackage(quiet({ dir })), (e: Error) => e instanceof PackageLayoutError && /pkg\/manifest\.json not found/.test(e.message));
    assert.equal(existsSync(join(dir, 'pkg', 'a.wasm')), false);
    assert.equal(existsSync(join(dir, 'target', 'x:kit-tests.zip')), false, 'no zip without a manifest');
  });

  it('says the directory does not exist', async () => {
    await assert.rejects(buildPackage(quiet({ dir: '/nonexistent/kit-pkg' })), (e: Error) => e instanceof PackageLayoutError && /does not exist/.test(e.message));
  });

  it('shows a TypeScript type error with file, line and column, and installs no wasm', async () => {
    const dir = pkg({
      'metadata.json': metadataJson('bad', 'kit-tests.os'),
      'pkg/manifest.json': MANIFEST(['bad']),
      'bad/src/lib.ts': "export function init(our: string): void {\n  const n: number = our;\n  void n;\n}\n",
    });
    const componentize = fakeComponentize();
    const err = await buildPackage(quiet({ dir, componentize })).then(
      () => assert.fail('a type error built'),
      (e) => e,
    );
    assert.ok(err instanceof CompileError, String(err));
    assert.match(err.message, /bad\/src\/lib\.ts:2:9 - error TS2322: Type 'string' is not assignable to type 'number'/);
    assert.equal(existsSync(join(dir, 'pkg', 'bad.wasm')), false, 'a process with type errors does not reach pkg/');
    assert.ok(err instanceof KitError, 'the CLI prints it without a stack trace');
  });

  it('type-checks calls into the WIT imports against the world', async () => {
    const dir = pkg({
      'metadata.json': metadataJson('bad', 'kit-tests.os'),
      'pkg/manifest.json': MANIFEST(['bad']),
      'bad/src/lib.ts': "import { printToTerminal } from 'hyperware:process/standard@1.0.0';\n\nexport function init(our: string): void {\n  printToTerminal('loud', our);\n}\n",
    });
    await assert.rejects(buildPackage(quiet({ dir, componentize: fakeComponentize() })), /bad\/src\/lib\.ts:4:19 - error TS2345/);
  });

  it('shows an esbuild error (a missing import) with file and line', async () => {
    const dir = pkg({
      'metadata.json': metadataJson('bad', 'kit-tests.os'),
      'pkg/manifest.json': MANIFEST(['bad']),
      'bad/src/lib.js': "import { nothing } from './missing.js';\n\nexport function init() {\n  nothing();\n}\n",
    });
    await assert.rejects(buildPackage(quiet({ dir, componentize: fakeComponentize() })), (e: Error) => {
      assert.ok(e instanceof CompileError);
      assert.match(e.message, /bad\/src\/lib\.js:1:\d+: error: Could not resolve "\.\/missing\.js"/);
      return true;
    });
  });

  it('shows a WIT syntax error with the API file and line', async () => {
    const dir = pkg({
      'metadata.json': metadataJson('bad', 'kit-tests.os'),
      'pkg/manifest.json': MANIFEST(['bad']),
      'api/bad:kit-tests.os-v0.wit': 'interface bad {\n  record r {\n    a: string\n\n  f: func();\n}\n',
      'bad/src/lib.js': 'export function init() {}\n',
    });
    await assert.rejects(buildPackage(quiet({ dir, componentize: fakeComponentize() })), (e: Error) => {
      assert.ok(e instanceof WitError, String(e));
      assert.match(e.message, /^api\/bad:kit-tests\.os-v0\.wit:5: WIT error: /);
      return true;
    });
  });

  it('shows a WIT name error with the line that uses the name', async () => {
    const dir = pkg({
      'metadata.json': metadataJson('bad', 'kit-tests.os'),
      'pkg/manifest.json': MANIFEST(['bad']),
      'api/bad:kit-tests.os-v0.wit': 'interface bad {\n  use standard.{address};\n  record r {\n    a: adress,\n  }\n}\n',
      'bad/src/lib.js': 'export function init() {}\n',
    });
    await assert.rejects(buildPackage(quiet({ dir, componentize: fakeComponentize() })), /api\/bad:kit-tests\.os-v0\.wit:4: WIT error: .*`adress` does not exist/);
  });

  it('refuses a world that no WIT declares', async () => {
    const dir = pkg({ 'metadata.json': metadataJson('w', 'kit-tests.os'), 'pkg/manifest.json': '[]', 'w/src/lib.js': 'export function init() {}\n' });
    await assert.rejects(buildPackage(quiet({ dir, world: 'nope-v0', componentize: fakeComponentize() })), (e: Error) => e instanceof WitError && /nope-v0/.test(e.message) && /process-v1/.test(e.message));
  });

  it('refuses --no-ui with --ui-only', async () => {
    await assert.rejects(buildPackage(quiet({ noUi: true, uiOnly: true })), FlagError);
  });

  it('names componentize-py for a Python process when it is not installed', async (t) => {
    const { spawnSync } = await import('node:child_process');
    if (!spawnSync('componentize-py', ['--version']).error) return t.skip('componentize-py is installed here');
    const dir = pkg({ 'metadata.json': metadataJson('py', 'kit-tests.os'), 'pkg/manifest.json': '[]', 'py/src/lib.py': '' });
    await assert.rejects(buildPackage(quiet({ dir })), (e: Error) => e instanceof ToolchainError && /componentize-py/.test(`${e.message} ${(e as ToolchainError).hint}`));
  });

  it('asks for -l or a node when a declared dependency has no API', async () => {
    const dir = pkg({
      'metadata.json': metadataJson('needy', 'kit-tests.os', { dependencies: ['other:kit-tests.os'] }),
      'pkg/manifest.json': '[]',
      'needy/src/lib.js': 'export function init() {}\n',
    });
    // Port 9 (discard) has no node on a test machine.
    await assert.rejects(buildPackage(quiet({ dir, port: 9, componentize: fakeComponentize() })), (e: Error) => {
      assert.ok(e instanceof BuildError, String(e));
      assert.match(e.message, /other:kit-tests\.os/);
      assert.match((e as BuildError).hint ?? '', /--local-dependency/);
      return true;
    });
  });
});

describe('kit build: dependencies', () => {
  it('builds against the API of a local dependency (-l), and rebuilds when that API changes', async () => {
    const other = pkg({
      'metadata.json': metadataJson('other', 'kit-tests.os'),
      'pkg/manifest.json': '[]',
      'api/other:kit-tests.os-v0.wit': 'interface other {\n  variant request {\n    ping,\n  }\n}\n',
    });
    const dir = pkg({
      'metadata.json': metadataJson('needy', 'kit-tests.os', { dependencies: ['other:kit-tests.os'] }),
      'pkg/manifest.json': MANIFEST(['needy']),
      'api/needy:kit-tests.os-v0.wit': 'world needy-kit-tests-dot-os-v0 {\n  import other;\n  include process-v1;\n}\n',
      'needy/src/lib.js': 'export function init() {}\n',
    });
    const componentize = fakeComponentize();
    const r = await buildPackage(quiet({ dir, componentize, localDependencies: [other], port: 9 }));
    assert.equal(r.world, 'needy-kit-tests-dot-os-v0');
    assert.ok(existsSync(join(dir, 'target', 'wit', 'other:kit-tests.os-v0.wit')));
    writeFiles(other, { 'api/other:kit-tests.os-v0.wit': 'interface other {\n  variant request {\n    ping,\n    pong,\n  }\n}\n' });
    const again = await buildPackage(quiet({ dir, componentize, localDependencies: [other], port: 9 }));
    assert.deepEqual(again.rebuilt, ['needy']);
  });
});

describe('kit build: world, filters, features', () => {
  it('takes the process world from the package API, or --world, or process-v1', () => {
    const api = [{ name: 'a.wit', text: API_WIT, origin: 'api/a.wit' }];
    assert.deepEqual(chooseWorld(undefined, api, 'greet', 'kit-tests.os'), { world: 'greet-kit-tests-dot-os-v0', source: 'api' });
    assert.equal(chooseWorld('other', api, 'greet', 'kit-tests.os').world, 'other');
    assert.equal(chooseWorld(undefined, [], 'greet', 'kit-tests.os').world, 'process-v1');
    // An exporter-only world (no process-v1) is not a process world.
    const two = `${API_WIT}\nworld greet-worker-api-v0 {\n  export greeter;\n}\n`;
    assert.equal(chooseWorld(undefined, [{ name: 'a.wit', text: two, origin: 'a' }], 'greet', 'kit-tests.os').world, 'greet-kit-tests-dot-os-v0');
  });

  it('reads world declarations, ignoring comments', () => {
    assert.deepEqual(worldsIn('// world fake {}\nworld a-v0 {\n  import x;\n  include process-v1;\n}\nworld b { export y; }'), [
      { name: 'a-v0', process: true },
      { name: 'b', process: false },
    ]);
  });

  it('matches -i/-e by folder name or path', () => {
    const f = makeFilter('/p', ['alpha', '/p/beta/'], ['beta']);
    assert.deepEqual(['alpha', 'beta', 'gamma'].filter(f), ['alpha']);
    assert.deepEqual(['alpha', 'beta'].filter(makeFilter('/p', [], ['./alpha'].map((v) => `/p/${v}`))), ['beta']);
  });

  it('detects process folders by src/lib.*, TypeScript before its compiled JavaScript', () => {
    const dir = pkg({ 'a/src/lib.ts': '', 'a/src/lib.js': '', 'b_c/src/lib.rs': '', 'ui/package.json': '{}', 'd/src/main.ts': '' });
    const found = detectProcesses(dir).map((p) => [p.name, p.language, p.wasmName]);
    assert.deepEqual(found, [
      ['a', 'typescript', 'a.wasm'],
      ['b_c', 'rust', 'b-c.wasm'],
    ]);
  });

  it('passes only the cargo features a crate has', () => {
    const cargo = { features: { 'simulation-mode': [] }, dependencies: { serde: '1', extra: { optional: true } } };
    assert.deepEqual(featuresFor(cargo, 'simulation-mode,extra,serde,nope'), ['simulation-mode', 'extra']);
  });

  it('prints plain progress lines when not on a terminal', () => {
    let out = '';
    const p = createProgress({ write: (s: string) => (out += s) }, false);
    p.step('alpha', 'componentizing');
    p.done('alpha', 'built in 5.0s');
    p.close();
    assert.equal(out, 'alpha: componentizing\nalpha: built in 5.0s\n');
  });

  it('redraws one line per process on a terminal', () => {
    let out = '';
    const p = createProgress({ write: (s: string) => (out += s), isTTY: true, columns: 80 });
    p.step('alpha', 'componentizing');
    p.step('beta', 'bundling');
    p.done('alpha', 'built in 5.0s');
    p.close();
    const last = out.slice(out.lastIndexOf('\x1b[2A'));
    assert.match(last, /alpha {2}built in 5\.0s\n/);
    assert.match(last, /beta {3}bundling \d+\.\ds\n/);
  });
});

describe('kit build: incremental (stand-in componentize)', () => {
  const dir = twoProcessPackage();
  const componentize = fakeComponentize(30);
  const build = (extra: BuildOptions = {}) => buildPackage(quiet({ dir, componentize, jobs: 2, ...extra }));

  it('builds every process in parallel, against the API world, and zips pkg/', async () => {
    const r = await build();
    assert.deepEqual(r.rebuilt.sort(), ['alpha', 'beta']);
    assert.equal(r.componentized, 2);
    assert.equal(componentize.maxConcurrent, 2, 'two processes componentized at once with jobs: 2');
    assert.equal(r.world, 'greet-kit-tests-dot-os-v0');
    for (const p of ['alpha', 'beta']) assert.ok(isComponent(readFileSync(join(dir, 'pkg', `${p}.wasm`))));
    assert.equal(r.zipPath, join(dir, 'target', 'greet:kit-tests.zip'));
    const entries = Object.keys(unzipSync(readFileSync(r.zipPath)));
    assert.deepEqual(entries.sort(), ['alpha.wasm', 'api.zip', 'beta.wasm', 'manifest.json']);
    assert.deepEqual(Object.keys(unzipSync(readFileSync(join(dir, 'pkg', 'api.zip')))), ['greet:kit-tests.os-v0.wit']);
    assert.ok(existsSync(join(dir, 'target', 'wit', 'hyperware.wit')));
    assert.ok(existsSync(join(dir, 'target', 'wit', 'greet:kit-tests.os-v0.wit')));
  });

  it('builds nothing and keeps the zip when nothing changed', async () => {
    const before = readFileSync(join(dir, 'target', 'greet:kit-tests.zip'));
    const r = await build();
    assert.deepEqual(r.rebuilt, []);
    assert.equal(r.componentized, 0);
    assert.equal(r.zipWritten, false);
    assert.deepEqual(
      r.processes.map((p) => p.status),
      ['up-to-date', 'up-to-date'],
    );
    assert.deepEqual(readFileSync(r.zipPath), before);
  });

  it('rebuilds only the process whose file changed', async () => {
    writeFiles(dir, { 'beta/src/lib.ts': TS_PROCESS('beta').replace('begins', 'starts') });
    const r = await build();
    assert.deepEqual(r.rebuilt, ['beta']);
    assert.equal(r.zipWritten, true);
  });

  it('rebuilds both when a shared file outside the process folders changes', async () => {
    writeFiles(dir, { 'shared/util.ts': "export function shout(s: string): string {\n  return s + '!';\n}\n" });
    const r = await build();
    assert.deepEqual(r.rebuilt.sort(), ['alpha', 'beta']);
  });

  it('rebuilds both when the API WIT changes', async () => {
    writeFiles(dir, { 'api/greet:kit-tests.os-v0.wit': API_WIT.replace('hello(string),', 'hello(string),\n    bye,') });
    const r = await build();
    assert.deepEqual(r.rebuilt.sort(), ['alpha', 'beta']);
  });

  it('puts back a wasm deleted from pkg/ without building it again, rebuilds one deleted from target/wasm, and respects -i/-e', async () => {
    const before = readFileSync(join(dir, 'pkg', 'alpha.wasm'));
    unlinkSync(join(dir, 'pkg', 'alpha.wasm'));
    const skipped = await build({ exclude: ['alpha'] });
    assert.deepEqual(skipped.rebuilt, []);
    assert.equal(skipped.processes.find((p) => p.name === 'alpha')?.status, 'excluded');
    assert.deepEqual(readFileSync(join(dir, 'pkg', 'alpha.wasm')), before, 'restored from target/wasm, its last accepted build');
    unlinkSync(join(dir, 'target', 'wasm', 'alpha.wasm'));
    const r = await build({ include: ['alpha'] });
    assert.deepEqual(r.rebuilt, ['alpha']);
  });

  it('a typo in -i/-e is an error naming the processes, not a build of nothing', async () => {
    await assert.rejects(build({ include: ['alpah'] }), (e: Error) => {
      assert.equal(e.name, 'FlagError');
      assert.match(e.message, /--include\/--exclude 'alpah' names no process or UI folder/);
      assert.match((e as Error & { hint?: string }).hint ?? '', /alpha, beta/);
      return true;
    });
    await assert.rejects(build({ include: ['alpha'], exclude: ['betta'] }), /'betta' names no process/);
  });

  it('reuses the component of identical sources in another folder instead of componentizing', async () => {
    const copy = twoProcessPackage();
    writeFiles(copy, {
      'alpha/src/lib.ts': readFileSync(join(dir, 'alpha', 'src', 'lib.ts'), 'utf8'),
      'beta/src/lib.ts': readFileSync(join(dir, 'beta', 'src', 'lib.ts'), 'utf8'),
      'shared/util.ts': readFileSync(join(dir, 'shared', 'util.ts'), 'utf8'),
      'api/greet:kit-tests.os-v0.wit': readFileSync(join(dir, 'api', 'greet:kit-tests.os-v0.wit'), 'utf8'),
    });
    const calls = componentize.calls.length;
    const r = await buildPackage(quiet({ dir: copy, componentize }));
    assert.equal(componentize.calls.length, calls, 'no componentize call');
    assert.equal(r.componentized, 0);
    assert.deepEqual(r.rebuilt.sort(), ['alpha', 'beta']);
    assert.ok(r.processes.every((p) => p.cached));
    assert.equal(r.zipHash, (await build()).zipHash, 'same sources, same package zip');
  });

  it('rebuilds everything with --force', async () => {
    const calls = componentize.calls.length;
    const r = await build({ force: true });
    assert.deepEqual(r.rebuilt.sort(), ['alpha', 'beta']);
    assert.equal(componentize.calls.length, calls + 2, 'fresh components, not reused ones');
    assert.equal(r.zipWritten, true);
  });

  it('does not take a touched file for a change', async () => {
    const lib = join(dir, 'alpha', 'src', 'lib.ts');
    writeFileSync(lib, readFileSync(lib));
    const r = await build();
    assert.deepEqual(r.rebuilt, []);
  });

  it('bumps current_version to the newest code_hashes version, as kit does', async () => {
    const meta = join(dir, 'metadata.json');
    writeFileSync(meta, readFileSync(meta, 'utf8').replace('"code_hashes": {\n      "0.1.0": ""\n    }', '"code_hashes": {\n      "0.1.0": "",\n      "0.2.0": ""\n    }'));
    await build();
    assert.equal(JSON.parse(readFileSync(meta, 'utf8')).properties.current_version, '0.2.0');
  });
});

describe('kit build: UI folders', () => {
  it('runs build:copy in a UI folder once, and skips it with --no-ui', async () => {
    const dir = pkg({
      'metadata.json': metadataJson('withui', 'kit-tests.os'),
      'pkg/manifest.json': '[]',
      'ui/package.json': JSON.stringify({ name: 'ui', private: true, scripts: { 'build:copy': 'mkdir -p ../pkg/ui && cp index.html ../pkg/ui/' } }),
      'ui/index.html': '<h1>hi</h1>\n',
      'ui/node_modules/.package-lock.json': JSON.stringify({ packages: {} }),
    });
    const r = await buildPackage(quiet({ dir }));
    assert.deepEqual(r.ui, [{ name: 'ui', status: 'built' }]);
    assert.equal(readFileSync(join(dir, 'pkg', 'ui', 'index.html'), 'utf8'), '<h1>hi</h1>\n');
    assert.ok(Object.keys(unzipSync(readFileSync(r.zipPath))).includes('ui/index.html'));
    const again = await buildPackage(quiet({ dir }));
    assert.deepEqual(again.ui, [{ name: 'ui', status: 'up-to-date' }]);
    const none = await buildPackage(quiet({ dir, noUi: true }));
    assert.deepEqual(none.ui, [{ name: 'ui', status: 'skipped' }]);
  });

  it('says which script is missing', async () => {
    const dir = pkg({ 'metadata.json': metadataJson('withui', 'kit-tests.os'), 'pkg/manifest.json': '[]', 'ui/package.json': '{"name":"ui"}' });
    await assert.rejects(buildPackage(quiet({ dir })), /build:copy/);
  });
});
