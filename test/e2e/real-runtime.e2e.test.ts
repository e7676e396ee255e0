// `kit boot-real-node` and `kit boot-fake-node --runtime-path`: a real Hyperdrive is a repo kit
// builds with cargo or a binary kit runs. Hyperdrive itself cannot be fetched here (no crates),
// so the binary is an argv-printing script and the repo a tiny cargo workspace with the same
// package names; what is checked is what a user sees: the flags the runtime gets, cargo's own
// error when a build fails, and the plain errors when there is nothing to run.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runKit } from '../helpers/kit.js';
import { freePort } from './helpers.js';
import { canConnect } from './sshd.js';

let dir: string;
let fakeBinary: string;
let argvOut: string;

const argvOf = () => readFileSync(argvOut, 'utf8').trimEnd().split('\n');

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kit-real-runtime-'));
  argvOut = join(dir, 'argv.txt');
  fakeBinary = join(dir, 'hyperdrive');
  // Prints its argv one per line, creates its home (the first argument) and exits with EXIT_CODE.
  writeFileSync(fakeBinary, `#!/bin/sh\nprintf '%s\\n' "$@" > '${argvOut}'\nmkdir -p "$1"\necho "fake hyperdrive up"\nexit "\${EXIT_CODE:-0}"\n`);
  chmodSync(fakeBinary, 0o755);
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('kit boot-real-node', () => {
  test('without --runtime-path says what this build can and cannot do', async () => {
    const r = await runKit(['boot-real-node', '--home', join(dir, 'none')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no Hyperdrive binary of its own and does not download one/);
    assert.match(r.stderr, /no live network/);
    assert.match(r.stderr, /hint: .*--runtime-path/);
    const e = await runKit(['e', '-o', join(dir, 'none'), '-v', 'v0.8.7']);
    assert.equal(e.code, 1);
    assert.match(e.stderr, /--version v0\.8\.7 names a release this kit cannot fetch/);
  });

  test('--home is required, as in the book', async () => {
    const r = await runKit(['boot-real-node']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Missing required flag home/);
  });

  test('runs a given binary with the real kit’s flags and extra arguments', async () => {
    const home = join(dir, 'real-home');
    const port = await freePort();
    const r = await runKit(['boot-real-node', '-r', fakeBinary, '-o', home, '-p', String(port), '--rpc', 'wss://rpc.example/ws', '--verbosity', '2', '--', '--ws-port 9001', '--max-peers', '8']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /fake hyperdrive up/);
    assert.deepEqual(argvOf(), [home, '--port', String(port), '--verbosity', '2', '--expose-local', '--ws-port', '9001', '--max-peers', '8', '--rpc', 'wss://rpc.example/ws']);
    assert.ok(existsSync(home), 'a real node’s home is never deleted');
  });

  test('the runtime’s exit status is kit’s', async () => {
    const r = await runKit(['e', '-r', fakeBinary, '-o', join(dir, 'h2')], { env: { EXIT_CODE: '7' } });
    assert.equal(r.code, 7);
  });

  test('clear errors for a path that is neither a binary nor a repo', async () => {
    const missing = await runKit(['e', '-r', join(dir, 'nowhere'), '-o', join(dir, 'h')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /--runtime-path .*nowhere does not exist/);

    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const noCargo = await runKit(['e', '-r', empty, '-o', join(dir, 'h')]);
    assert.equal(noCargo.code, 1);
    assert.match(noCargo.stderr, /neither a Hyperdrive binary nor a Hyperdrive repo \(no Cargo\.toml in it\)/);

    const notExec = join(dir, 'not-executable');
    writeFileSync(notExec, 'x');
    const r = await runKit(['e', '-r', notExec, '-o', join(dir, 'h')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is a file but not executable/);
  });

  /** A cargo workspace with Hyperdrive's package names: build-packages and a hyperdrive that prints argv. */
  function fakeRepo(name: string, hyperdriveMain: string): string {
    const repo = join(dir, name);
    const crate = (pkg: string, main: string) => {
      mkdirSync(join(repo, pkg, 'src'), { recursive: true });
      writeFileSync(join(repo, pkg, 'Cargo.toml'), `[package]\nname = "${pkg}"\nversion = "0.1.0"\nedition = "2021"\n\n[features]\nsimulation-mode = []\n`);
      writeFileSync(join(repo, pkg, 'src', 'main.rs'), main);
    };
    crate('build-packages', 'fn main() { println!("packages: {}", std::env::args().skip(1).collect::<Vec<_>>().join(" ")); }\n');
    crate('hyperdrive', hyperdriveMain);
    writeFileSync(join(repo, 'Cargo.toml'), '[workspace]\nmembers = ["build-packages", "hyperdrive"]\nresolver = "2"\n');
    return repo;
  }

  test('builds a repo with cargo and runs target/debug/hyperdrive', { skip: hasCargo() ? false : 'cargo is not installed' }, async () => {
    const repo = fakeRepo(
      'repo-ok',
      `fn main() {\n  let args: Vec<String> = std::env::args().skip(1).collect();\n  std::fs::write(${JSON.stringify(argvOut)}, args.join("\\n") + "\\n").unwrap();\n  println!("zip={}", env!("PATH_TO_PACKAGES_ZIP"));\n}\n`,
    );
    const home = join(dir, 'built-home');
    const r = await runKit(['boot-real-node', '--runtime-path', repo, '--home', home, '-p', '8181'], { env: { CARGO_NET_OFFLINE: 'true' } });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /Building Hyperdrive: cargo run -p build-packages/);
    assert.match(r.stdout, /Building Hyperdrive: cargo build -p hyperdrive/);
    assert.match(r.stdout, /zip=target\/packages\.zip/);
    assert.deepEqual(argvOf(), [home, '--port', '8181', '--verbosity', '0', '--expose-local']);
    assert.ok(existsSync(join(repo, 'target', 'debug', 'hyperdrive')));
  });

  test('a failing cargo build shows cargo’s error', { skip: hasCargo() ? false : 'cargo is not installed' }, async () => {
    const repo = fakeRepo('repo-broken', 'fn main() { let x: u32 = "not a number"; }\n');
    const r = await runKit(['boot-real-node', '--runtime-path', repo, '--home', join(dir, 'h3')], { env: { CARGO_NET_OFFLINE: 'true' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /`cargo build -p hyperdrive` failed/);
    assert.match(r.stderr, /mismatched types/);
  });
});

describe('kit boot-fake-node --runtime-path', () => {
  test('runs the given runtime on a fake chain with the fake-node flags, then cleans up', async () => {
    const home = join(dir, 'fake-home');
    const port = await freePort();
    const chainPort = await freePort();
    const r = await runKit(['boot-fake-node', '--runtime-path', fakeBinary, '-o', home, '-p', String(port), '-c', String(chainPort), '-f', 'fake2', '--', '--max-peers 4']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(argvOf(), [
      home,
      '--port',
      String(port),
      '--verbosity',
      '0',
      '--expose-local',
      '--max-peers',
      '4',
      '--password',
      'secret',
      '--fake-node-name',
      'fake2.dev',
      '--fakechain-port',
      String(chainPort),
    ]);
    assert.match(r.stdout, new RegExp(`chain on ${chainPort}: started now by kit .*; os account (created|present) at 0x9b3853358ede717fc7D4806cF75d7A4d4517A9C9`));
    assert.ok(!existsSync(home), 'the home is deleted without --persist');
    assert.equal(await canConnect(chainPort), false, 'the chain kit started is stopped');
  });
});

function hasCargo(): boolean {
  return spawnSync('cargo', ['--version']).status === 0;
}
