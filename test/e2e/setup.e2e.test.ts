// `kit setup` as a user runs it: on a PATH with nothing but node it names every missing tool with
// its install command and exits 1, requiring Rust and Python only for a package that has such
// processes; with stand-in Rust tools (cargo, rustc, rustup scripts) in a Rust package it installs
// the missing wasm32-wasip1 target through rustup when asked, and then exits 0.

import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { neededLanguages } from '../../src/setup/index.js';
import { runKit } from '../helpers/kit.js';

let dir: string;
let bareBin: string;
let rustBin: string;
let sysroot: string;
let rustupLog: string;
let rustPackage: string;
let pythonPackage: string;

function script(path: string, body: string) {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kit-setup-'));
  bareBin = join(dir, 'bare');
  mkdirSync(bareBin);
  symlinkSync(process.execPath, join(bareBin, 'node'));
  rustBin = join(dir, 'rust');
  mkdirSync(rustBin);
  symlinkSync(process.execPath, join(rustBin, 'node'));
  sysroot = join(dir, 'sysroot');
  mkdirSync(join(sysroot, 'lib', 'rustlib'), { recursive: true });
  rustupLog = join(dir, 'rustup.log');
  rustPackage = join(dir, 'rusty');
  mkdirSync(join(rustPackage, 'rusty', 'src'), { recursive: true });
  writeFileSync(join(rustPackage, 'metadata.json'), '{}');
  writeFileSync(join(rustPackage, 'rusty', 'src', 'lib.rs'), '');
  pythonPackage = join(dir, 'snaky');
  mkdirSync(join(pythonPackage, 'snaky', 'src'), { recursive: true });
  writeFileSync(join(pythonPackage, 'metadata.json'), '{}');
  writeFileSync(join(pythonPackage, 'snaky', 'src', 'lib.py'), '');
  script(join(rustBin, 'cargo'), 'echo "cargo 1.85.1 (stand-in)"');
  script(join(rustBin, 'rustc'), `echo '${sysroot}'`);
  script(join(rustBin, 'rustup'), `echo "$@" >> '${rustupLog}'\n[ "\${1#+}" != "$1" ] && shift\n[ "$1 $2" = "target add" ] && /bin/mkdir -p '${sysroot}/lib/rustlib/'"$3"`);
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('kit setup', () => {
  test('outside a package: names every missing tool with its install command, requires only what TypeScript needs', async () => {
    const r = await runKit(['setup', '--non-interactive'], { env: { PATH: bareBin }, cwd: dir });
    assert.equal(r.code, 1, r.output);
    assert.match(r.stdout, new RegExp(`Node\\.js +ok +v${process.versions.node.replaceAll('.', '\\.')}`));
    assert.match(r.stdout, /anvil +ok +anvil Version/, 'anvil ships with kit');
    // Found or not (kit build also finds Debian's /usr/bin/cargo off PATH), Rust is not required.
    assert.match(r.stdout, /cargo +(ok|missing \(optional\))/);
    assert.match(r.stdout, /wasm32-wasip1 +(ok|missing \(optional\))/);
    assert.match(r.stdout, /componentize-py +missing \(optional\)[^\n]*\n +install: python3 -m pip install --user componentize-py==0\.11\.0/);
    assert.match(r.stdout, /Docker +missing \(optional\)/);
    assert.match(r.stdout, /npm +MISSING/);
    assert.match(r.stdout, /Chromium +missing \(optional\)[^\n]*\n +install: /);
    assert.doesNotMatch(r.stdout, /Installing/, '--non-interactive installs nothing a TypeScript user does not need');
    assert.match(r.stderr, /^Error: 1 required dependency is missing: npm$/m);
  });

  test('in a package with a Python process, Python and componentize-py are required', async () => {
    const r = await runKit(['setup'], { env: { PATH: bareBin }, cwd: pythonPackage });
    assert.equal(r.code, 1, r.output);
    assert.match(r.stdout, /componentize-py +MISSING[^\n]*\n +install: python3 -m pip install --user componentize-py==0\.11\.0/);
    assert.match(r.stderr, /required dependencies are missing: npm, Python, componentize-py$/m);
  });

  test('what a package needs comes from its processes; --toolchain asks for Rust', () => {
    assert.deepEqual(neededLanguages(rustPackage), { rust: true, python: false });
    assert.deepEqual(neededLanguages(pythonPackage), { rust: false, python: true });
    assert.deepEqual(neededLanguages(dir), { rust: false, python: false });
    assert.deepEqual(neededLanguages(dir, '+1.85.1'), { rust: true, python: false });
  });

  test('without --non-interactive and no terminal it installs nothing', async () => {
    const r = await runKit(['setup', '-d', '-p', '-j', '--toolchain', '+1.85.1'], { env: { PATH: rustBin }, cwd: rustPackage });
    assert.equal(r.code, 1, r.output);
    assert.match(r.stdout, /cargo +ok +cargo 1\.85\.1/);
    assert.match(r.stdout, /run `kit setup --non-interactive`/);
    assert.doesNotMatch(existsSync(rustupLog) ? readFileSync(rustupLog, 'utf8') : '', /target add/, 'nothing was installed');
    assert.match(r.stderr, /1 required dependency is missing: wasm32-wasip1/);
  });

  test('--non-interactive installs the missing wasm target for --toolchain, then passes', async () => {
    const r = await runKit(['setup', '-d', '-p', '-j', '--non-interactive', '--toolchain', '+1.85.1'], { env: { PATH: rustBin }, cwd: rustPackage });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /Installing wasm32-wasip1: rustup \+1\.85\.1 target add wasm32-wasip1/);
    assert.deepEqual(
      readFileSync(rustupLog, 'utf8')
        .split('\n')
        .filter((l) => l.includes('target add')),
      ['+1.85.1 target add wasm32-wasip1'],
    );
    assert.match(r.stdout, /After installing:[\s\S]*wasm32-wasip1 +ok/);
    assert.match(r.stdout, /All required dependencies are present\./);
    assert.match(r.stdout, /componentize-py +missing \(optional\)/, '-p makes Python optional');
  });
});
