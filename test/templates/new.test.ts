// `kit new` for every template in both languages: a complete package, renamed everywhere, with
// names checked as Hypermap-safe; and the errors for what it refuses.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse as parseToml } from 'smol-toml';
import { chooseWorld, hyperwareWit, readApiWits, validateWit, writeWitDir } from '../../src/build/wit.js';
import { isSafeName, parseProcessId } from '../../src/core/types.js';
import { createPackage, NewPackageError, type TemplateName } from '../../src/templates/index.js';
import { upperCamel, worldName } from '../../src/templates/placeholders.js';
import {
  cleanup,
  type Generated,
  generateAll,
  PACKAGE,
  PUBLISHER,
  processDirs,
  ROOT,
  readJson,
  TEMPLATES_ROOT,
  tempDir,
} from './helpers.js';

interface Expect {
  /** Processes in pkg/manifest.json. */
  manifest: string[];
  /** Scripts in pkg/scripts.json. */
  scripts: string[];
  /** Processes started at run time (spawned), built but in neither list. */
  spawned: string[];
  api: boolean;
  nodes: number;
}

// After renaming the template to my-app.
const EXPECT: Record<TemplateName, Expect> = {
  blank: { manifest: ['my-app'], scripts: [], spawned: [], api: false, nodes: 1 },
  chat: { manifest: ['my-app'], scripts: ['send'], spawned: [], api: true, nodes: 2 },
  echo: { manifest: ['my-app'], scripts: [], spawned: [], api: false, nodes: 1 },
  fibonacci: { manifest: ['my-app'], scripts: ['number'], spawned: [], api: true, nodes: 1 },
  'file-transfer': { manifest: ['my-app'], scripts: ['download', 'list-files'], spawned: ['my-app-worker'], api: true, nodes: 2 },
};

interface ManifestEntry {
  process_name: string;
  process_wasm_path: string;
  request_capabilities: unknown[];
  grant_capabilities: unknown[];
  public: boolean;
}

let all: Generated[];

before(async () => {
  all = await generateAll();
});
after(cleanup);

function leftovers(template: string, text: string): string[] {
  const forms = [template, template.replace(/-/g, '_'), upperCamel(template), 'template.os', 'template-dot-os', 'template_dot_os', 'TemplateDotOs'];
  const lower = text.toLowerCase();
  return forms.filter((f) => lower.includes(f.toLowerCase()));
}

test('every template in both languages is a complete package', () => {
  assert.equal(all.length, 10);
  for (const g of all) {
    const want = EXPECT[g.template];
    const at = (rel: string) => join(g.dir, rel);
    const label = `${g.language}/${g.template}`;
    for (const rel of ['metadata.json', '.gitignore', 'pkg/manifest.json', 'test/tests.toml'])
      assert.ok(existsSync(at(rel)), `${label}: ${rel} is missing`);

    const meta = readJson<{ name: string; properties: Record<string, unknown> }>(at('metadata.json'));
    assert.equal(meta.name, PACKAGE);
    assert.equal(meta.properties.package_name, PACKAGE);
    assert.equal(meta.properties.publisher, PUBLISHER);
    assert.deepEqual(meta.properties.code_hashes, { '0.1.0': '' });

    // Every process kit build will find is installed, a script, or spawned by the package.
    const manifest = readJson<ManifestEntry[]>(at('pkg/manifest.json'));
    assert.deepEqual(manifest.map((e) => e.process_name), want.manifest, label);
    for (const e of manifest) {
      assert.ok(isSafeName(e.process_name), `${label}: ${e.process_name} is not Hypermap-safe`);
      assert.equal(e.process_wasm_path, `/${e.process_name}.wasm`);
    }
    const scripts = existsSync(at('pkg/scripts.json')) ? Object.keys(readJson<object>(at('pkg/scripts.json'))) : [];
    assert.deepEqual(scripts, want.scripts.map((s) => `${s}.wasm`), label);
    assert.deepEqual(processDirs(g.dir, g.ext), [...want.manifest, ...want.scripts, ...want.spawned].sort(), `${label}: process folders`);
    for (const p of want.spawned) {
      const sources = g.files.filter((f) => f.endsWith(`.${g.ext}`)).map((f) => readFileSync(at(f), 'utf8'));
      assert.ok(sources.some((s) => s.includes(`'${p}.wasm'`)), `${label}: nothing spawns ${p}.wasm`);
    }

    // The API, where the template has one, declares the world kit derives for the package.
    const api = `api/${PACKAGE}:${PUBLISHER}-v0.wit`;
    assert.equal(existsSync(at(api)), want.api, `${label}: ${api}`);
    if (want.api) {
      const worlds = [...readFileSync(at(api), 'utf8').matchAll(/world\s+([^\s{]+)/g)].map((m) => m[1]);
      assert.deepEqual(worlds, [worldName(PACKAGE, PUBLISHER)]);
      assert.equal(worlds[0], 'my-app-foo-dot-os-v0');
    }

    // The test package: one process, capabilities as strings (what the tester reads).
    const testDir = `test/${PACKAGE}-test`;
    const testMeta = readJson<{ properties: { package_name: string; dependencies: string[] } }>(at(`${testDir}/metadata.json`));
    assert.equal(testMeta.properties.package_name, `${PACKAGE}-test`);
    assert.ok(testMeta.properties.dependencies.includes('tester:sys'));
    if (want.api) assert.ok(testMeta.properties.dependencies.includes(`${PACKAGE}:${PUBLISHER}`));
    const testManifest = readJson<ManifestEntry[]>(at(`${testDir}/pkg/manifest.json`));
    assert.equal(testManifest.length, 1, `${label}: a test package has exactly one process`);
    for (const cap of [...testManifest[0].request_capabilities, ...testManifest[0].grant_capabilities]) {
      assert.equal(typeof cap, 'string');
      parseProcessId(cap as string);
    }
    assert.deepEqual(processDirs(at(testDir), g.ext), [`${PACKAGE}-test`]);
    const testWorld = readFileSync(at(`${testDir}/api/${PACKAGE}-test:${PUBLISHER}-v0.wit`), 'utf8');
    assert.match(testWorld, /world my-app-test-foo-dot-os-v0 \{/);

    const toml = parseToml(readFileSync(at('test/tests.toml'), 'utf8')) as {
      tests: Array<{ test_package_paths: string[]; nodes: unknown[]; timeout_secs: number; setup_packages: unknown[] }>;
      persist_home: boolean;
      runtime_build_release: boolean;
      always_print_node_output: boolean;
    };
    assert.deepEqual(toml.tests[0].test_package_paths, [`${PACKAGE}-test`]);
    assert.equal(toml.tests[0].nodes.length, want.nodes);
    assert.deepEqual(JSON.parse(JSON.stringify(toml.tests[0].setup_packages)), [{ path: '..', run: true }]);
    assert.equal(typeof toml.persist_home, 'boolean');
  }
});

test('no trace of the template names is left in any path or file', () => {
  for (const g of all) {
    for (const rel of g.files) {
      assert.deepEqual(leftovers(g.template, rel), [], `${g.language}/${g.template}: path ${rel}`);
      assert.deepEqual(leftovers(g.template, readFileSync(join(g.dir, rel), 'utf8')), [], `${g.language}/${g.template}: in ${rel}`);
    }
  }
});

test('typescript and javascript templates have the same files and behaviour', () => {
  for (const t of Object.keys(EXPECT)) {
    const ts = all.find((g) => g.template === t && g.language === 'typescript')!;
    const js = all.find((g) => g.template === t && g.language === 'javascript')!;
    // The editor config is named for its language: tsconfig.json, jsconfig.json.
    const asJs = (f: string) => (f === 'tsconfig.json' ? 'jsconfig.json' : f.replace(/\.ts$/, '.js'));
    assert.deepEqual(js.files, ts.files.map(asJs).sort(), t);
  }
});

test('the package name comes from the folder unless --package is given', async () => {
  const base = tempDir();
  const made = await createPackage({ dir: join(base, 'from-dir'), template: 'echo', templatesRoot: TEMPLATES_ROOT });
  assert.equal(made.packageName, 'from-dir');
  assert.equal(made.publisher, 'template.os');
  assert.equal(made.language, 'typescript');
  const meta = readJson<{ properties: { package_name: string } }>(join(made.dir, 'metadata.json'));
  assert.equal(meta.properties.package_name, 'from-dir');
  const chat = await createPackage({ dir: join(base, 'default'), templatesRoot: TEMPLATES_ROOT });
  assert.equal(chat.template, 'chat');
  assert.ok(existsSync(join(chat.dir, 'default', 'src', 'lib.ts')));
});

test('bad names are refused with the characters allowed', async () => {
  const base = tempDir();
  const refuse = async (options: Parameters<typeof createPackage>[0], pattern: RegExp) =>
    assert.rejects(createPackage({ templatesRoot: TEMPLATES_ROOT, ...options }), (e: Error) => {
      assert.ok(e instanceof NewPackageError, `${e}`);
      assert.match(e.message, pattern);
      return true;
    });
  await refuse({ dir: join(base, 'My_App') }, /package name 'My_App' \(taken from the folder name; pass --package to choose another\) may only contain lowercase letters a-z, digits 0-9 and '-'/);
  await refuse({ dir: join(base, 'ok'), packageName: 'my.app' }, /package name 'my\.app' may only contain lowercase letters a-z, digits 0-9 and '-' \(no '\.', no '_'\)/);
  await refuse({ dir: join(base, 'ok'), publisher: 'Foo.os' }, /publisher 'Foo\.os' may only contain lowercase letters a-z, digits 0-9, '-' and '\.'/);
  await refuse({ dir: join(base, 'ok'), publisher: 'foo..os' }, /no empty parts between dots/);
  await refuse({ dir: join(base, 'api') }, /'api'.*is reserved/);
  await refuse({ dir: join(base, 'ok'), packageName: 'test' }, /'test' is reserved/);
  await refuse({ dir: join(base, 'ok'), template: 'hyperapp-skeleton' }, /unknown template 'hyperapp-skeleton': choose one of blank, chat, echo, fibonacci, file-transfer/);
  await refuse({ dir: join(base, 'ok'), language: 'go' }, /unknown language 'go': choose one of typescript, javascript/);
  await refuse({ dir: join(base, 'ok'), language: 'rust' }, /Rust toolchain with the wasm32-wasip1 target/);
  await refuse({ dir: join(base, 'ok'), language: 'python' }, /componentize-py/);
  await refuse({ dir: join(base, 'ok'), ui: true, template: 'echo' }, /--ui: only the chat template has a UI version; create 'echo' without --ui/);
  await refuse({ dir: join(base, 'ok'), ui: true, language: 'javascript' }, /--ui: the chat UI template is written for TypeScript processes only so far/);
  mkdirSync(join(base, 'taken'));
  await refuse({ dir: join(base, 'taken') }, /already exists: choose a new folder/);
  // Hypermap-safe, but the package name names its WIT interface, so it must be a WIT identifier.
  await refuse({ dir: join(base, '1abc') }, /package name '1abc' \(taken from the folder name.*\) must start with a letter/);
  await refuse({ dir: join(base, 'ok'), packageName: 'my--app' }, /package name 'my--app' may not start or end with '-' or have '--'/);
  await refuse({ dir: join(base, 'ok'), packageName: 'my-app-' }, /may not start or end with '-'/);
  await refuse({ dir: join(base, 'ok'), packageName: 'list' }, /package name 'list' is a WIT keyword/);
  await refuse({ dir: join(base, 'ok'), publisher: 'me-.os' }, /publisher 'me-\.os' may not have '-' at the start or end of a part/);
  assert.ok(!existsSync(join(base, 'ok')), 'nothing is written when the input is refused');
});

test('the kit binary: `kit n` creates the package; a bad name exits 1 with the rule', () => {
  const cwd = tempDir('kit-new-cli-');
  const kit = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], { cwd, encoding: 'utf8' });
  const ok = kit('n', 'my-echo', '-t', 'echo', '-l', 'javascript', '-u', 'me.os');
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /Template directory created successfully at .*my-echo/);
  assert.ok(existsSync(join(cwd, 'my-echo', 'my-echo', 'src', 'lib.js')));
  assert.equal(readJson<{ properties: { publisher: string } }>(join(cwd, 'my-echo', 'metadata.json')).properties.publisher, 'me.os');

  const bad = kit('new', 'Bad_Name');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /Error: package name 'Bad_Name'.*may only contain lowercase letters a-z, digits 0-9 and '-'/);
  assert.ok(!existsSync(join(cwd, 'Bad_Name')));
});

test('--ui: the chat template with a Vite + React UI in ui/, renamed, serving it from the process', async () => {
  const base = tempDir('kit-new-ui-');
  const made = await createPackage({ dir: join(base, 'my-app'), ui: true, publisher: 'me.os' });
  for (const f of ['ui/package.json', 'ui/index.html', 'ui/vite.config.ts', 'ui/src/App.tsx', 'ui/src/hyperware.ts', 'my-app/src/lib.ts', 'pkg/manifest.json'])
    assert.ok(made.files.includes(f), `${f} in ${made.files.join(', ')}`);
  const pkg = readJson(join(made.dir, 'ui/package.json')) as { name: string; scripts: Record<string, string> };
  assert.equal(pkg.name, 'my-app-ui');
  assert.equal(pkg.scripts['build:copy'], 'npm run build && npm run copy');
  assert.equal(pkg.scripts.copy, 'mkdir -p ../pkg/ui && rm -rf ../pkg/ui/* && cp -r dist/* ../pkg/ui/');
  assert.match(pkg.scripts.build, /^tsc && vite build$/);
  assert.match(readFileSync(join(made.dir, 'ui/index.html'), 'utf8'), /<script src="\/our\.js"><\/script>/);
  const lib = readFileSync(join(made.dir, 'my-app/src/lib.ts'), 'utf8');
  assert.match(lib, /processId\('my-app:my-app:me\.os'\)/);
  assert.match(lib, /httpServer\.serveUi\('ui'/);
  assert.match(lib, /httpServer\.bindWebSocket\('\/ws'\)/);
  assert.doesNotMatch(readFileSync(join(made.dir, 'ui/src/App.tsx'), 'utf8'), /\bchat\b/);
});

test('names with digits and dashes that kit new accepts give an API that parses as WIT', async () => {
  const base = tempDir('kit-new-wit-');
  for (const [packageName, publisher] of [['app-2', 'my-name.os'], ['x9', '9lives.os'], ['a-2b-c', 'template.os']]) {
    const dir = join(base, packageName);
    await createPackage({ dir, templatesRoot: TEMPLATES_ROOT, template: 'chat', publisher });
    const api = readApiWits(dir);
    const { world } = chooseWorld(undefined, api, packageName, publisher);
    const witDir = join(dir, 'target', 'wit');
    const files = [hyperwareWit(), ...api];
    writeWitDir(witDir, files);
    await validateWit(witDir, files, world);
  }
});
