// tests.toml as kit run-tests reads it: every key of the book's file, strict types, errors that
// name the key and the line, unknown keys ignored with a note (as the real kit ignores them), and
// the runtime it names.

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { locateConfig, nodeName, parseConfig, TestsConfigError, testName } from '../../src/run-tests/config.js';
import { chooseRuntime } from '../../src/run-tests/runtime.js';

const FILE = '/work/pkg/test/tests.toml';

const BOOK = `runtime = { FetchVersion = "latest" }
# runtime = { RepoPath = "~/git/kinode" }
persist_home = false
runtime_build_release = false

[[tests]]
dependency_package_paths = []
setup_packages = []
setup_scripts = []
test_package_paths = ["key_value_test",  "sqlite_test"]
test_scripts = []
timeout_secs = 5
fakechain_router = 8545

[[tests.nodes]]
port = 8080
home = "home/first"
fake_node_name = "first.dev"
runtime_verbosity = 2

[[tests.nodes]]
port = 8081
home = "home/second"
fake_node_name = "second.dev"
runtime_verbosity = 2

[[tests]]
dependency_package_paths = []
setup_packages = []
test_package_paths = ["key_value_test"]
setup_scripts = []
test_scripts = []
timeout_secs = 5
fakechain_router = 8545

[[tests.nodes]]
port = 8080
home = "home/first"
fake_node_name = "first.dev"
runtime_verbosity = 2
`;

const CURRENT = `runtime = { FetchVersion = "latest" }
persist_home = true
runtime_build_release = false
always_print_node_output = true

[[tests]]
dependency_package_paths = [".."]
setup_packages = [{ path = "..", run = true }]
setup_scripts = ["./start.sh --fast"]
test_package_paths = ["chat-test"]
test_scripts = ["./check.sh"]
timeout_secs = 15
fakechain_router = 8545
hyperapp = true
features = ["simulation"]

[[tests.nodes]]
port = 8080
home = "home/first"
fake_node_name = "first"
password = "pw"
rpc = "ws://localhost:1/"
`;

function throwsAt(text: string, pattern: RegExp): TestsConfigError {
  try {
    parseConfig(text, FILE);
  } catch (e) {
    assert.ok(e instanceof TestsConfigError, `not a TestsConfigError: ${e}`);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail('parseConfig accepted it');
}

describe('tests.toml', () => {
  it("reads the book's example as written, noting the key that Kinode-era files lack", () => {
    const c = parseConfig(BOOK, FILE);
    assert.deepEqual(c.runtime, { FetchVersion: 'latest' });
    assert.equal(c.persist_home, false);
    assert.equal(c.always_print_node_output, false);
    assert.equal(c.tests.length, 2);
    assert.deepEqual(c.tests[0].test_package_paths, ['key_value_test', 'sqlite_test']);
    assert.deepEqual(
      c.tests[0].nodes.map((n) => [n.port, n.home, nodeName(n), n.runtime_verbosity]),
      [
        [8080, '/work/pkg/test/home/first', 'first.dev', 2],
        [8081, '/work/pkg/test/home/second', 'second.dev', 2],
      ],
    );
    assert.equal(c.tests[1].nodes.length, 1);
    assert.match(c.notes.join('\n'), /always_print_node_output is missing/);
  });

  it('reads every key of the current kit, paths relative to the file', () => {
    const c = parseConfig(CURRENT, FILE);
    const t = c.tests[0];
    assert.equal(c.persist_home, true);
    assert.equal(c.always_print_node_output, true);
    assert.deepEqual(t.dependency_package_paths, ['/work/pkg']);
    assert.deepEqual(t.setup_packages, [{ path: '/work/pkg', run: true }]);
    assert.deepEqual(t.setup_scripts, ['./start.sh --fast']);
    assert.deepEqual(t.test_scripts, ['./check.sh']);
    assert.equal(t.timeout_secs, 15);
    assert.equal(t.hyperapp, true);
    assert.deepEqual(t.features, ['simulation']);
    assert.equal(t.nodes[0].password, 'pw');
    assert.equal(t.nodes[0].rpc, 'ws://localhost:1/');
    assert.equal(t.nodes[0].runtime_verbosity, 0);
    assert.equal(nodeName(t.nodes[0]), 'first.os', 'a name without a dot gets .os, as the real kit appends');
    assert.deepEqual(c.notes, []);
    assert.equal(testName('tests/chat-test/'), 'chat-test');
  });

  it('names the line of unparsable TOML', () => {
    const e = throwsAt(BOOK.replace('timeout_secs = 5', 'timeout_secs = = 5'), /tests\.toml:12:\d+: not valid TOML/);
    assert.match(e.details ?? '', /timeout_secs/);
  });

  it('names the key and line of a wrong type', () => {
    throwsAt(BOOK.replace('timeout_secs = 5', 'timeout_secs = "5"'), /tests\.toml:12: `tests\[0\]\.timeout_secs` must be an integer, not the string "5"/);
    throwsAt(BOOK.replace('persist_home = false', 'persist_home = "no"'), /:3: `persist_home` must be true or false/);
    throwsAt(BOOK.replace('port = 8081', 'port = 80810'), /:22: `tests\[0\]\.nodes\[1\]\.port` must be between 1 and 65535/);
    throwsAt(CURRENT.replace('run = true', 'run = 1'), /`tests\[0\]\.setup_packages\[0\]\.run` must be true or false/);
  });

  it('names a missing required key, in the right [[tests]] table', () => {
    const second = BOOK.lastIndexOf('timeout_secs = 5\n');
    const text = BOOK.slice(0, second) + BOOK.slice(second + 'timeout_secs = 5\n'.length);
    throwsAt(text, /`tests\[1\]\.timeout_secs` is missing/);
    throwsAt(BOOK.replace('runtime_build_release = false\n', ''), /`runtime_build_release` is missing/);
  });

  it('ignores unknown keys as the real kit does, with a note naming each and its line', () => {
    const c = parseConfig(BOOK.replace('timeout_secs = 5', 'timeout_secs = 5\ntimout = 3').replace('persist_home = false', 'persist_home = false\nnetwork_router = 1'), FILE);
    assert.equal(c.tests[0].timeout_secs, 5);
    assert.match(c.notes.join('\n'), /ignored network_router \(line 4\): not a key of the current kit's tests\.toml \(the real kit ignores it too\)/);
    assert.match(c.notes.join('\n'), /ignored tests\[0\]\.timout \(line 14\)/);
    const old = parseConfig(BOOK.replace('fake_node_name = "first.dev"', 'fake_node_name = "first.dev"\nis_testnet = true'), FILE);
    assert.match(old.notes.join('\n'), /ignored tests\[0\]\.nodes\[0\]\.is_testnet \(line \d+\)/);
    // A required key misspelt is still missing, and said so.
    throwsAt(BOOK.replace('timeout_secs = 5', 'timout_secs = 5'), /`tests\[0\]\.timeout_secs` is missing/);
    throwsAt(BOOK.replace('runtime = { FetchVersion = "latest" }', 'runtime = { Fetch = "latest" }'), /`runtime` must be \{ FetchVersion/);
  });

  describe('the runtime', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kit-runtime-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('FetchVersion is the embedded runtime', async () => {
      const r = await chooseRuntime({ FetchVersion: 'latest' }, false);
      assert.equal(r.kind, 'embedded');
      assert.match(r.note, /embedded TypeScript runtime/);
    });

    it('RepoPath is resolved against the tests.toml folder; an executable file is run as the runtime', async () => {
      const c = parseConfig(BOOK.replace('runtime = { FetchVersion = "latest" }', 'runtime = { RepoPath = "hd" }'), FILE);
      assert.deepEqual(c.runtime, { RepoPath: '/work/pkg/test/hd' });
      const bin = join(dir, 'hyperdrive');
      writeFileSync(bin, '#!/bin/sh\n');
      chmodSync(bin, 0o755);
      const r = await chooseRuntime({ RepoPath: bin }, false);
      assert.deepEqual(r.kind === 'real' && r.binary, bin);
      assert.match(r.note, /every node runs .*hyperdrive with Hyperdrive's command line/);
    });

    it('a RepoPath that is missing, not executable, or a folder without Cargo.toml: a clear error', async () => {
      await assert.rejects(() => chooseRuntime({ RepoPath: join(dir, 'nope') }, false), /tests\.toml runtime RepoPath .*nope does not exist/);
      const plain = join(dir, 'plain');
      writeFileSync(plain, 'x');
      chmodSync(plain, 0o644);
      await assert.rejects(() => chooseRuntime({ RepoPath: plain }, false), (e: Error & { hint?: string }) => /is a file but not executable/.test(e.message) && /chmod \+x/.test(e.hint ?? ''));
      await assert.rejects(() => chooseRuntime({ RepoPath: dir }, false), /neither a Hyperdrive binary nor a Hyperdrive repo \(no Cargo\.toml in it\)/);
    });
  });

  describe('locating the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kit-tests-toml-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('finds tests.toml, then test/tests.toml, and says what it looked for', () => {
      mkdirSync(join(dir, 'pkg', 'test'), { recursive: true });
      writeFileSync(join(dir, 'pkg', 'test', 'tests.toml'), BOOK);
      assert.equal(locateConfig(undefined, join(dir, 'pkg')), join(dir, 'pkg', 'test', 'tests.toml'));
      assert.equal(locateConfig('test', join(dir, 'pkg')), join(dir, 'pkg', 'test', 'tests.toml'));
      writeFileSync(join(dir, 'pkg', 'tests.toml'), BOOK);
      assert.equal(locateConfig(join(dir, 'pkg')), join(dir, 'pkg', 'tests.toml'));
      assert.throws(() => locateConfig(dir), /Could not find tests\.toml within .*looked for/);
      assert.throws(() => locateConfig(join(dir, 'nope')), /Configuration path does not exist/);
    });
  });
});
