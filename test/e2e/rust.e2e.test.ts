// The Rust path of `kit build` as a developer runs it: cargo builds test/fixtures/packages/rust-echo
// (std, no crates: its canonical-ABI glue is written by hand), kit makes the component, and the
// process is installed on a fake node and answers a Request. Needs a Rust toolchain that builds
// for WASI: .ci/run installs Debian's rustc, cargo, libstd-rust-dev-wasm32 and lld; elsewhere
// without one the suite is skipped (never in CI).

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findRustToolchain } from '../../src/build/rust-toolchain.js';
import { isComponentBinary } from '../../src/core/wasm-binary.js';
import { REPO, runKit } from '../helpers/kit.js';
import { bootFakeNode, type FakeNode, freePort } from './helpers.js';

const FIXTURE = join(REPO, 'test/fixtures/packages/rust-echo');

async function toolchainMissing(): Promise<string | undefined> {
  try {
    await findRustToolchain({ processName: 'rust_echo' });
    return undefined;
  } catch (e) {
    if (process.env.CI) throw e;
    return `no Rust toolchain for WASI here: ${(e as Error).message.split('\n')[0]}`;
  }
}

const skip = await toolchainMissing();

describe('kit build: a Rust process, built with cargo, installed and answering', { timeout: 10 * 60_000 }, () => {
  let work: string;
  let node: FakeNode | undefined;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'kit-rust-'));
  });
  after(async () => {
    await node?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('builds with `kit build`, installs with `kit start-package`, answers `kit inject-message`', { skip }, async () => {
    const dir = join(work, 'rust-echo');
    cpSync(FIXTURE, dir, { recursive: true });
    const built = await runKit(['build', dir]);
    assert.equal(built.code, 0, built.output);
    assert.match(built.output, /Rust: rustc \d+\.\d+\.\d+.*target wasm32-wasip?1?/);
    // B10: pkg/ gets the folder's name with _ -> -, as the real kit names it.
    const wasm = readFileSync(join(dir, 'pkg', 'rust-echo.wasm'));
    assert.ok(isComponentBinary(wasm), 'pkg/rust-echo.wasm is a component');

    const port = await freePort();
    node = await bootFakeNode(port, join(work, 'home'));
    const started = await runKit(['start-package', dir, '-p', String(port)]);
    assert.equal(started.code, 0, started.output);
    const answer = await runKit(['inject-message', 'rust-echo:rust-echo:kit-tests.os', '{"hello":"rust"}', '-p', String(port)]);
    assert.equal(answer.code, 0, answer.output);
    // The process lifted its `our` string, lowered the Request (source address and body) and sent a Response.
    assert.match(answer.output, /\{"Echo":\{"hello":"rust"\},"our":"fake\.dev@rust-echo:rust-echo:kit-tests\.os","source":"fake\.dev@http-server:distro:sys"\}/);
    assert.match(node.output(), /rust-echo: started as fake\.dev@rust-echo:rust-echo:kit-tests\.os/);
  });

  it("B10: a crate named with `_` gets cargo's own error and how to name it", { skip }, async () => {
    const dir = join(work, 'underscored');
    cpSync(FIXTURE, dir, { recursive: true });
    const manifest = join(dir, 'rust_echo', 'Cargo.toml');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('name = "rust-echo"', 'name = "rust_echo"'));
    const r = await runKit(['build', dir]);
    assert.notEqual(r.code, 0);
    // cargo's own words (newer cargo: "did not match any packages"; 1.65 with --no-default-features: "outside of workspace").
    assert.match(r.output, /package ID specification `rust-echo` did not match any packages|cannot specify features for packages outside of workspace/);
    assert.match(r.output, /name the crate `rust-echo` in its Cargo\.toml/);
  });

  it('B11: refuses crates that use different hyperware_process_lib versions, naming them, before building', { skip }, async () => {
    const dir = join(work, 'two-libs');
    cpSync(FIXTURE, dir, { recursive: true });
    writeFileSync(join(dir, 'Cargo.toml'), readFileSync(join(dir, 'Cargo.toml'), 'utf8').replace('members = ["rust_echo"]', 'members = ["rust_echo", "other"]'));
    const withLib = (name: string, dep: string) => `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nhyperware_process_lib = ${dep}\n`;
    const echo = join(dir, 'rust_echo', 'Cargo.toml');
    writeFileSync(echo, `${readFileSync(echo, 'utf8')}\n[dependencies]\nhyperware_process_lib = "2.1.0"\n`);
    cpSync(join(dir, 'rust_echo', 'src'), join(dir, 'other', 'src'), { recursive: true });
    writeFileSync(join(dir, 'other', 'Cargo.toml'), withLib('other', '{ git = "https://github.com/hyperware-ai/process_lib", tag = "v1.0.0" }'));
    const r = await runKit(['build', dir]);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /Found different versions of hyperware_process_lib in different crates:/);
    assert.match(r.output, /\^2\.1\.0\s+rust-echo/);
    assert.match(r.output, /\^1\.0\.0\s+other/);
    assert.match(r.output, /Set all hyperware_process_lib versions to be the same/);
  });
});
