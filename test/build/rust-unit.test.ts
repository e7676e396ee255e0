// kit build's Rust path without compiling anything: which toolchain is picked and what is said
// when none fits (stand-in rustc/cargo scripts on PATH), the real kit's crate and file naming
// (B10), the hyperware_process_lib version check (B11), --toolchain's syntax and --rewrite.

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildPackage } from '../../src/build/build.js';
import { detectProcesses } from '../../src/build/detect.js';
import { FlagError, ToolchainError } from '../../src/build/errors.js';
import { parseRustToolchain } from '../../src/build/flags.js';
import { spawnCalls } from '../../src/build/rewrite.js';
import { cargoHint, cargoPackageName, coreWasmPath, processLibVersions } from '../../src/build/rust.js';
import { findRustToolchain } from '../../src/build/rust-toolchain.js';
import { MANIFEST, metadataJson, writePackage } from './helpers.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A rustup-like `rustc`/`cargo` pair in a temp folder: `+<name>` selects a toolchain; `good-new`
 * has wasm32-wasip1, `good-old` wasm32-wasi (rustc before 1.78), `nowasm` only the host target,
 * anything else is "not installed".
 */
function fakeRustup(): string {
  const bin = writePackage({}, 'kit-fake-rustup-');
  dirs.push(bin);
  const roots: Record<string, string | undefined> = { 'good-new': 'wasm32-wasip1', 'good-old': 'wasm32-wasi', nowasm: undefined };
  for (const [name, target] of Object.entries(roots)) {
    mkdirSync(join(bin, name, 'lib', 'rustlib', 'x86_64-unknown-linux-gnu'), { recursive: true });
    if (target) mkdirSync(join(bin, name, 'lib', 'rustlib', target), { recursive: true });
  }
  const script = (tool: string) => `#!/bin/sh
tc="\${1#+}"; [ "\${1#+}" = "$1" ] && tc=default; [ "\${1#+}" != "$1" ] && shift
case "$tc" in good-new|good-old|nowasm) ;; *) echo "error: toolchain '$tc' is not installed" >&2; exit 1;; esac
case "$1" in
  --version) echo "${tool} 9.9.9-$tc";;
  --print) echo "${bin}/$tc";;
  *) echo "unexpected: $*" >&2; exit 2;;
esac
`;
  for (const tool of ['rustc', 'cargo']) {
    writeFileSync(join(bin, tool), script(tool));
    chmodSync(join(bin, tool), 0o755);
  }
  return bin;
}

async function withPath<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = `${dir}:${saved}`;
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
  }
}

describe('kit build: the Rust toolchain', () => {
  const bin = fakeRustup();

  it('uses `cargo +X` with the target name that toolchain has (wasm32-wasip1, or wasm32-wasi before rustc 1.78)', async () => {
    const fresh = await withPath(bin, () => findRustToolchain({ processName: 'p', toolchain: '+good-new' }));
    assert.deepEqual([fresh.cargo, fresh.cargoPrefix, fresh.target], ['cargo', ['+good-new'], 'wasm32-wasip1']);
    const old = await withPath(bin, () => findRustToolchain({ processName: 'p', toolchain: '+good-old' }));
    assert.equal(old.target, 'wasm32-wasi');
    assert.match(old.description, /rustc 9\.9\.9-good-old/);
  });

  it('says which target to install when the toolchain has no WebAssembly standard library', async () => {
    await assert.rejects(
      withPath(bin, () => findRustToolchain({ processName: 'echo', toolchain: '+nowasm' })),
      (e: Error) => {
        assert.ok(e instanceof ToolchainError, String(e));
        assert.match(e.message, /process echo is written in Rust, but no installed Rust toolchain can build for WebAssembly/);
        assert.match(e.message, /rustup toolchain nowasm \(rustc 9\.9\.9-nowasm\): no wasm32-wasip1 \(or wasm32-wasi\) standard library installed/);
        assert.match(e.hint ?? '', /rustup target add wasm32-wasip1 --toolchain X/);
        assert.match(e.hint ?? '', /apt-get install rustc cargo libstd-rust-dev-wasm32 lld/);
        return true;
      },
    );
  });

  it('says how to install a --toolchain that is not installed', async () => {
    await assert.rejects(
      withPath(bin, () => findRustToolchain({ processName: 'echo', toolchain: '+1.85.1' })),
      (e: Error) => {
        assert.ok(e instanceof ToolchainError, String(e));
        assert.match(e.message, /toolchain \+1\.85\.1 is not usable/);
        assert.match(e.message, /error: toolchain '1\.85\.1' is not installed/);
        assert.match(e.hint ?? '', /rustup toolchain install 1\.85\.1/);
        return true;
      },
    );
  });

  it('checks --toolchain as the real kit does', () => {
    assert.equal(parseRustToolchain('+1.85.1'), '+1.85.1');
    assert.equal(parseRustToolchain('+nightly-2025-01-01'), '+nightly-2025-01-01');
    assert.throws(() => parseRustToolchain('1.85.1'), /must start with '\+'/);
    assert.throws(() => parseRustToolchain('+'), /cannot be empty/);
    assert.throws(() => parseRustToolchain('+a b'), /Invalid characters/);
  });

  it('explains the cargo failures it recognises', () => {
    assert.match(cargoHint("error: linker `rust-lld` not found\n", 'x') ?? '', /apt-get install lld/);
    assert.match(cargoHint("error[E0463]: can't find crate for `std`\n", 'x') ?? '', /rustup target add wasm32-wasip1/);
    assert.match(cargoHint('error: failed to get `serde` as a dependency of package `x`\n', 'x') ?? '', /needs crates\.io/);
    assert.match(cargoHint('error: package ID specification `my-proc` did not match any packages\n\n\tDid you mean `my_proc`?', 'my-proc', 'my_proc') ?? '', /name the crate `my-proc`/);
    assert.match(cargoHint('error: cannot specify features for packages outside of workspace', 'lone') ?? '', /\[workspace\] members/);
    assert.equal(cargoHint('error[E0308]: mismatched types', 'x'), undefined);
  });
});

describe('kit build: Rust names and versions as the real kit has them', () => {
  it('B10: passes [package] name with _ turned into - to cargo, and finds the core module by the folder name', () => {
    assert.equal(cargoPackageName({ package: { name: 'my_proc' } }, 'Cargo.toml'), 'my-proc');
    assert.equal(coreWasmPath('/p/target', 'wasm32-wasip1', 'my-proc'), '/p/target/wasm32-wasip1/release/my_proc.wasm');
    assert.throws(() => cargoPackageName({}, '/p/x/Cargo.toml'), /\/p\/x\/Cargo\.toml has no \[package\] name/);
    const dir = writePackage({ 'my_proc/src/lib.rs': '', 'my_proc/Cargo.toml': '' });
    dirs.push(dir);
    assert.equal(detectProcesses(dir)[0].wasmName, 'my-proc.wasm');
  });

  it('B11: groups hyperware_process_lib requirements by version, reading a git tag as the real kit does', () => {
    const lib = (req: string, source: string | null) => ({ name: 'hyperware_process_lib', req, source });
    const versions = processLibVersions({
      packages: [
        { name: 'a', dependencies: [lib('^2.1.0', 'registry+https://github.com/rust-lang/crates.io-index'), { name: 'serde', req: '^1', source: null }] },
        { name: 'b', dependencies: [lib('*', 'git+https://github.com/hyperware-ai/process_lib?tag=v1.0.0')] },
        { name: 'c', dependencies: [lib('^2.1.0', null)] },
        { name: 'd', dependencies: [lib('*', 'git+https://github.com/hyperware-ai/process_lib?branch=main')] },
      ],
    });
    assert.deepEqual([...versions], [
      ['^2.1.0', ['a', 'c']],
      ['^1.0.0', ['b']],
    ]);
  });
});

describe('kit build --rewrite', () => {
  it('is refused, naming each Spawn!() call, where a Rust process uses Spawn!()', async () => {
    const dir = writePackage({
      'metadata.json': metadataJson('spawner', 'kit-tests.os'),
      'pkg/manifest.json': MANIFEST(['spawner']),
      'spawner/Cargo.toml': '[package]\nname = "spawner"\nversion = "0.1.0"\nedition = "2021"\n',
      'spawner/src/lib.rs': 'fn init() {\n    // Spawn!(commented_out())\n    Spawn!(|x: u8| { x });\n}\n',
    });
    dirs.push(dir);
    assert.deepEqual(spawnCalls(detectProcesses(dir)), [`${join(dir, 'spawner/src/lib.rs')}:3`]);
    await assert.rejects(buildPackage({ dir, rewrite: true, progress: null }), (e: Error) => {
      assert.ok(e instanceof FlagError, String(e));
      assert.match(e.message, /--rewrite: this kit cannot rewrite `Spawn!\(\)`/);
      assert.match(e.message, /spawner\/src\/lib\.rs:3/);
      assert.match((e as FlagError).hint ?? '', /real kit/);
      return true;
    });
  });
});
