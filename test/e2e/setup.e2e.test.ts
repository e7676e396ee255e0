// `kit setup` as a user runs it: on a PATH with nothing but node it names every missing tool with
// its install command and exits 1; with stand-in Rust tools (cargo, rustc, rustup scripts) it
// installs the missing wasm32-wasip1 target through rustup when asked, and then exits 0.

import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runKit } from '../helpers/kit.js';

let dir: string;
let bareBin: string;
let rustBin: string;
let sysroot: string;
let rustupLog: string;

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
  script(join(rustBin, 'cargo'), 'echo "cargo 1.85.1 (stand-in)"');
  script(join(rustBin, 'rustc'), `echo '${sysroot}'`);
  script(join(rustBin, 'rustup'), `echo "$@" >> '${rustupLog}'\n[ "\${1#+}" != "$1" ] && shift\n[ "$1 $2" = "target add" ] && /bin/mkdir -p '${sysroot}/lib/rustlib/'"$3"`);
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('kit setup', () => {
  test('names every missing tool with the command that installs it and exits 1', async () => {
    const r = await runKit(['setup'], { env: { PATH: bareBin } });
    assert.equal(r.code, 1, r.output);
    assert.match(r.stdout, new RegExp(`Node\\.js +ok +v${process.versions.node.replaceAll('.', '\\.')}`));
    assert.match(r.stdout, /anvil +ok +anvil Version/, 'anvil ships with kit');
    assert.match(r.stdout, /cargo +MISSING +not found[^\n]*\n +install: curl [^\n]*https:\/\/sh\.rustup\.rs/);
    assert.match(r.stdout, /wasm32-wasip1 +MISSING[^\n]*\n +install: rustup target add wasm32-wasip1/);
    assert.match(r.stdout, /componentize-py +MISSING[^\n]*\n +install: python3 -m pip install --user componentize-py==0\.11\.0/);
    assert.match(r.stdout, /Docker +MISSING/);
    assert.match(r.stdout, /npm +MISSING/);
    assert.match(r.stdout, /Chromium +missing \(optional\)[^\n]*\n +install: /);
    assert.match(r.stderr, /required dependencies are missing: npm, cargo, wasm32-wasip1, Python, componentize-py, Docker/);
  });

  test('without --non-interactive and no terminal it installs nothing', async () => {
    const r = await runKit(['setup', '-d', '-p', '-j'], { env: { PATH: rustBin } });
    assert.equal(r.code, 1, r.output);
    assert.match(r.stdout, /cargo +ok +cargo 1\.85\.1/);
    assert.match(r.stdout, /run `kit setup --non-interactive`/);
    assert.ok(!existsSync(rustupLog), 'rustup was not run');
    assert.match(r.stderr, /1 required dependency is missing: wasm32-wasip1/);
  });

  test('--non-interactive installs the missing wasm target for --toolchain, then passes', async () => {
    const r = await runKit(['setup', '-d', '-p', '-j', '--non-interactive', '--toolchain', '+1.85.1'], { env: { PATH: rustBin } });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /Installing wasm32-wasip1: rustup \+1\.85\.1 target add wasm32-wasip1/);
    assert.equal(readFileSync(rustupLog, 'utf8'), '+1.85.1 target add wasm32-wasip1\n');
    assert.match(r.stdout, /After installing:[\s\S]*wasm32-wasip1 +ok/);
    assert.match(r.stdout, /All required dependencies are present\./);
    assert.match(r.stdout, /componentize-py +missing \(optional\)/, '-p makes Python optional');
  });
});
