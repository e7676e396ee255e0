// `kit run-tests` as CI runs it: the real binary on real packages, fake nodes in their own OS
// processes on a private fake chain. Every template's own test suite passes (chat on first.dev
// and second.dev), a broken expectation fails with its location, the book's tests.toml runs as
// written, the bad inputs of issue 6 fail clearly, and no process is left behind.
//
// Projects live at fixed paths so that their components are reused by content across runs
// (the bundle, and so the cache key, depends on the path from the package to kit): one path per
// checkout, so that runs from two checkouts at once do not build in each other's folders.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildFixture } from '../../src/build/componentize.js';
import { isComponentBinary, isDevelopmentBuild } from '../../src/core/wasm-binary.js';
import { componentShape } from '../../src/runtime/process/transpile.js';
import { REPO, runKit } from '../helpers/kit.js';
import { exited, freePort } from './helpers.js';

const WORK = `/tmp/kit-run-tests-e2e-${createHash('sha256').update(REPO).digest('hex').slice(0, 8)}`;
const TEMPLATES = ['echo', 'fibonacci', 'blank', 'chat', 'file-transfer'];
const RUN_MS = 20 * 60_000;

interface Ports {
  nodes: number[];
  chain: number;
}

/** Rewrite a tests.toml onto free ports (other suites run at the same time) and optional names. */
function retarget(file: string, ports: Ports, names?: Record<string, string>): void {
  let text = readFileSync(file, 'utf8');
  // The first port the file names goes to nodes[0], the second to nodes[1] (8080 and 8081 as
  // written, or whatever an earlier retarget chose).
  const seen = new Map<string, number>();
  text = text.replace(/^port = (\d+)$/gm, (_m, n: string) => {
    if (!seen.has(n)) seen.set(n, ports.nodes[seen.size] ?? ports.nodes[0]);
    return `port = ${seen.get(n)}`;
  });
  text = text.replace(/^fakechain_router = \d+$/gm, `fakechain_router = ${ports.chain}`);
  for (const [from, to] of Object.entries(names ?? {})) text = text.replaceAll(`"${from}"`, `"${to}"`);
  writeFileSync(file, text);
}

async function ports(): Promise<Ports> {
  return { nodes: [await freePort(), await freePort()], chain: await freePort() };
}

/** Processes still running that belong to this run: its nodes (homes under dir), scripts, anvil. */
function leftovers(dir: string, p: Ports): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps
    .split('\n')
    .filter((l) => l.includes(dir) || l.includes(`--port ${p.chain}`) || p.nodes.some((n) => l.includes(`-p ${n} `)))
    .filter((l) => !l.includes('ps -eo'));
}

function lastLine(out: string): string {
  return out.trim().split('\n').at(-1) ?? '';
}

async function kitNew(dir: string, template: string): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, '..'), { recursive: true });
  const r = await runKit(['new', dir, '-t', template, '-l', 'typescript']);
  assert.equal(r.code, 0, r.output);
}

/**
 * run-tests installs development builds: complete components, with the types, imports, exports
 * and code componentize-js gives the same bundle (only the memory image is made differently).
 */
async function assertCompleteComponent(dir: string, process: string): Promise<void> {
  const built = new Uint8Array(readFileSync(join(dir, 'pkg', `${process}.wasm`)));
  assert.ok(isComponentBinary(built), 'a component');
  assert.ok(isDevelopmentBuild(built), 'made by a development build');
  const release = await buildFixture(join(dir, 'target', 'js', `${process}.js`), { witPath: join(dir, 'target', 'wit'), worldName: 'process-v1' });
  assert.equal(componentShape(built)?.hash, componentShape(release)?.hash, "the shape of componentize-js's component of the same bundle");
}

describe('kit run-tests', { timeout: 60 * 60_000 }, () => {
  before(() => mkdirSync(WORK, { recursive: true }));
  after(() => {
    for (const d of ['bad', 'book', 'broken', 'hang']) rmSync(join(WORK, d), { recursive: true, force: true });
  });

  for (const template of TEMPLATES) {
    it(`the ${template} template's own tests pass${template === 'chat' ? ' (two nodes: first.dev and second.dev)' : ''}`, async () => {
      const dir = join(WORK, 'ts', template);
      await kitNew(dir, template);
      const p = await ports();
      // The Done-when asks for chat between first.dev and second.dev; other templates keep theirs.
      retarget(join(dir, 'test', 'tests.toml'), p, template === 'chat' ? { 'first.os': 'first.dev', 'second.os': 'second.dev' } : undefined);
      const r = await runKit(['run-tests'], { cwd: dir, timeoutMs: RUN_MS });
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, new RegExp(`PASS ${template}-test \\(\\d+\\.\\d s\\)`));
      assert.equal(lastLine(r.stdout), '1 passed, 0 failed');
      if (template === 'chat') assert.match(r.output, /booting second\.dev/);
      assert.deepEqual(leftovers(dir, p), []);
      assert.equal(existsSync(join(dir, 'test', 'home', 'first')), false, 'homes are deleted (persist_home = false)');
      if (template === 'echo') await assertCompleteComponent(dir, 'echo');
    });
  }

  it('a broken expectation fails with its file:line:column and a non-zero exit; --json, --junit and --rerun', async () => {
    const dir = join(WORK, 'broken', 'echo');
    await kitNew(dir, 'echo');
    const p = await ports();
    retarget(join(dir, 'test', 'tests.toml'), p);
    const lib = join(dir, 'test', 'echo-test', 'echo-test', 'src', 'lib.ts');
    const good = readFileSync(lib, 'utf8');
    writeFileSync(lib, good.replace("assertEqual(requestJson(target, value, 15), value, 'JSON body');", "assertEqual(requestJson(target, value, 15), { ...value, n: 43 }, 'JSON body');"));
    // Reported where it is in the test's own source (kit build embeds the bundle's source map).
    const line = good.split('\n').findIndex((l) => l.includes("'JSON body'")) + 1;
    // test_scripts run after a failed test too, as in the real kit.
    const toml = join(dir, 'test', 'tests.toml');
    writeFileSync(toml, readFileSync(toml, 'utf8').replace('test_scripts = []', 'test_scripts = ["touch ran-after-failure"]'));

    const junit = join(dir, 'target', 'junit.xml');
    const r = await runKit(['run-tests', '--json', '--junit', junit], { cwd: dir, timeoutMs: RUN_MS });
    assert.equal(r.code, 1, r.output);
    assert.match(r.stderr, new RegExp(`FAIL tests\\[0\\] echo-test \\(\\d+\\.\\d s\\) at echo-test/src/lib\\.ts:${line}:\\d+: JSON body: got .*"n":42.*expected .*"n":43`));
    assert.match(r.stderr, /0 passed, 1 failed\n*$/);
    const report = JSON.parse(r.stdout);
    assert.equal(report.ok, false);
    assert.equal(report.failed, 1);
    const failure = report.tests[0].packages[0].failure;
    assert.equal(failure.file, 'echo-test/src/lib.ts', JSON.stringify(failure));
    assert.equal(failure.line, line, JSON.stringify(failure));
    const xml = readFileSync(junit, 'utf8');
    assert.match(xml, /<testcase classname="tests\[0\]" name="echo-test" file="[^"]+" line="\d+"/);
    assert.match(xml, /<failure message="JSON body: got/);
    assert.deepEqual(leftovers(dir, p), []);
    assert.ok(existsSync(join(dir, 'test', 'ran-after-failure')), 'the test script ran after the failed test');

    // Fixed: --rerun runs only what failed, passes, and then has nothing left to run.
    writeFileSync(lib, good);
    const again = await runKit(['run-tests', '--rerun'], { cwd: dir, timeoutMs: RUN_MS });
    assert.equal(again.code, 0, again.output);
    assert.match(again.stdout, /--rerun: running only what failed or did not run last time: tests\[0\]: echo-test/);
    assert.equal(lastLine(again.stdout), '1 passed, 0 failed');
    const nothing = await runKit(['run-tests', '--rerun'], { cwd: dir });
    assert.equal(nothing.code, 0, nothing.output);
    assert.match(nothing.stdout, /the last run passed; nothing to rerun/);
  });

  it("a tests.toml shaped like the book's example (two tests, two nodes) runs as written", async () => {
    const dir = join(WORK, 'book');
    rmSync(dir, { recursive: true, force: true });
    cpSync(join(REPO, 'test', 'fixtures', 'run-tests', 'book'), dir, { recursive: true });
    const p = await ports();
    retarget(join(dir, 'tests.toml'), p);
    const r = await runKit(['run-tests'], { cwd: dir, timeoutMs: RUN_MS });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /note: always_print_node_output is missing/);
    assert.match(r.stdout, /tests\[0\]: booting second\.dev/);
    assert.match(r.stdout, /PASS tests\[0\] key_value_test/);
    assert.match(r.stdout, /PASS tests\[0\] sqlite_test/);
    assert.match(r.stdout, /PASS tests\[1\] key_value_test/);
    assert.equal(lastLine(r.stdout), '3 passed, 0 failed');
    assert.deepEqual(leftovers(dir, p), []);
  });

  it('a test package that never answers times out at timeout_secs', async () => {
    const dir = join(WORK, 'hang');
    rmSync(dir, { recursive: true, force: true });
    cpSync(join(REPO, 'test', 'fixtures', 'run-tests', 'hang'), dir, { recursive: true });
    const p = await ports();
    retarget(join(dir, 'tests.toml'), p);
    const r = await runKit(['run-tests', 'tests.toml'], { cwd: dir, timeoutMs: RUN_MS });
    assert.equal(r.code, 1, r.output);
    assert.match(r.stdout, /FAIL tests\[0\] hang-test \(\d+\.\d s\): hang-test did not answer within 3 s \(timeout_secs\)/);
    assert.equal(lastLine(r.stdout), '0 passed, 1 failed');
    assert.deepEqual(leftovers(dir, p), []);
  });

  describe('bad input', () => {
    // The echo project built above (its packages are up to date), with other tests.toml files.
    const project = join(WORK, 'ts', 'echo');
    const dir = join(WORK, 'bad');
    let p: Ports;
    before(async () => {
      if (!existsSync(join(project, 'test', 'tests.toml'))) await kitNew(project, 'echo');
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      p = await ports();
    });

    /** The echo project's tests.toml with `edit` applied, written as test/<name>.toml. */
    function variant(name: string, edit: (s: string) => string): string {
      const file = join(project, 'test', `${name}.toml`);
      writeFileSync(file, edit(readFileSync(join(project, 'test', 'tests.toml'), 'utf8')));
      retarget(file, p);
      return file;
    }

    it('no tests.toml: says where it looked', async () => {
      const r = await runKit(['run-tests'], { cwd: dir });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Could not find tests\.toml within .*looked for/);
      const missing = await runKit(['run-tests', join(dir, 'nope.toml')]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /Configuration path does not exist: .*nope\.toml/);
    });

    it('unparsable tests.toml: names the line', async () => {
      writeFileSync(join(dir, 'tests.toml'), 'runtime = { FetchVersion = "latest" }\npersist_home = false\nruntime_build_release = [\n');
      const r = await runKit(['run-tests'], { cwd: dir });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /tests\.toml:4:\d+: not valid TOML/);
      writeFileSync(join(dir, 'tests.toml'), 'runtime = { FetchVersion = "latest" }\npersist_home = "no"\n');
      const typed = await runKit(['run-tests'], { cwd: dir });
      assert.equal(typed.code, 1);
      assert.match(typed.stderr, /tests\.toml:2: `persist_home` must be true or false/);
    });

    it('RepoPath that does not exist, or does not build: a clear error naming the path, before anything is built', async () => {
      const file = variant('repo', (s) => s.replace('runtime = { FetchVersion = "latest" }', 'runtime = { RepoPath = "~/no/such/hyperdrive" }'));
      const r = await runKit(['run-tests', file]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /tests\.toml runtime RepoPath .*\/no\/such\/hyperdrive does not exist/);
      assert.match(r.stderr, /hint: pass a Hyperdrive repo \(a folder with Cargo\.toml\) or a Hyperdrive binary/);
      assert.doesNotMatch(r.output, /building/);
      // A checkout cargo cannot build: cargo's own error and what to do.
      const repo = join(dir, 'broken-hyperdrive');
      mkdirSync(join(repo, 'src'), { recursive: true });
      writeFileSync(join(repo, 'Cargo.toml'), '[package]\nname = "build-packages"\nversion = "0.1.0"\nedition = "2021"\n');
      writeFileSync(join(repo, 'src', 'main.rs'), 'fn main() { this is not rust }\n');
      const broken = variant('repo-broken', (s) => s.replace('runtime = { FetchVersion = "latest" }', `runtime = { RepoPath = "${repo}" }`));
      const b = await runKit(['run-tests', broken], { timeoutMs: RUN_MS });
      assert.equal(b.code, 1, b.output);
      if (spawnSync('cargo', ['--version']).error) {
        assert.match(b.stderr, /cargo not found: building Hyperdrive from tests\.toml runtime RepoPath needs Rust/);
        assert.match(b.stderr, /hint: install Rust/);
      } else {
        assert.match(b.stdout, /building the runtime at .*broken-hyperdrive: cargo run -p build-packages -- --features simulation-mode/);
        assert.match(b.stderr, /`cargo run -p build-packages -- --features simulation-mode` failed in .*broken-hyperdrive/);
        assert.match(b.stderr, /error/);
        assert.match(b.stderr, /hint: fix the build error above \(or build Hyperdrive yourself and give tests\.toml runtime RepoPath the binary\)/);
      }
    });

    it('a test package path that does not exist', async () => {
      const file = variant('missing', (s) => s.replace('test_package_paths = ["echo-test"]', 'test_package_paths = ["nope-test"]'));
      const r = await runKit(['run-tests', file], { timeoutMs: RUN_MS });
      assert.equal(r.code, 1, r.output);
      assert.match(r.stdout, /FAIL tests\[0\]: test_package_paths of tests\[0\] names nope-test, but .*nope-test does not exist/);
      assert.equal(lastLine(r.stdout), '0 passed, 1 failed');
    });

    it('a port already in use by something else', async () => {
      const file = variant('port', (s) => s);
      const squatter = createServer();
      await new Promise<void>((r) => squatter.listen(p.nodes[0], r));
      try {
        const r = await runKit(['run-tests', file], { timeoutMs: RUN_MS });
        assert.equal(r.code, 1, r.output);
        assert.match(r.stderr, new RegExp(`port ${p.nodes[0]} \\(tests\\[0\\]\\.nodes\\[0\\]\\.port, first\\.os\\) is already in use by something else`));
        assert.doesNotMatch(r.output, /building/, 'said before anything is built');
        assert.deepEqual(leftovers(project, p), []);
      } finally {
        squatter.close();
      }
    });

    it('a setup script that exits non-zero fails the test, and nothing is left running', async () => {
      writeFileSync(join(project, 'test', 'setup.sh'), '#!/bin/bash\necho "setting up the world"\nexit 3\n');
      const file = variant('setup', (s) => s.replace('setup_scripts = []', 'setup_scripts = ["bash setup.sh"]'));
      const r = await runKit(['run-tests', file], { timeoutMs: RUN_MS });
      assert.equal(r.code, 1, r.output);
      assert.match(r.stdout, /setup script `bash setup\.sh` exited with status 3; its last output:\nsetting up the world/);
      assert.deepEqual(leftovers(project, p), []);
    });

    it('a test script that exits non-zero fails the run even though the tests passed', async () => {
      const file = variant('script', (s) => s.replace('test_scripts = []', 'test_scripts = ["false"]'));
      const r = await runKit(['run-tests', file], { timeoutMs: RUN_MS });
      assert.equal(r.code, 1, r.output);
      assert.match(r.stdout, /PASS tests\[0\] echo-test/);
      assert.match(r.stdout, /test script `false` exited with status 1/);
      assert.equal(lastLine(r.stdout), '1 passed, 1 failed');
    });
  });
});

describe('kit run-tests stopped by a signal', { timeout: 20 * 60_000 }, () => {
  it('SIGINT mid-run stops every node and the chain, and exits 130', async () => {
    const dir = join(WORK, 'ts', 'echo');
    if (!existsSync(join(dir, 'test', 'tests.toml'))) await kitNew(dir, 'echo');
    const p = await ports();
    const file = join(dir, 'test', 'signal.toml');
    writeFileSync(file, readFileSync(join(dir, 'test', 'tests.toml'), 'utf8'));
    retarget(file, p);
    const child = spawn(process.execPath, [join(REPO, 'bin/run.js'), 'run-tests', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const done = exited(child);
    // Interrupt once the node is up (the package is being installed).
    const deadline = Date.now() + 10 * 60_000;
    while (!/installing/.test(out) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /installing/, out);
    child.kill('SIGINT');
    const code = await done;
    assert.equal(code, 130, out);
    assert.match(out, /kit cleanup got SIGINT/);
    assert.match(out, /stopped by SIGINT/);
    assert.deepEqual(leftovers(dir, p), []);
  });
});
