// Library packages, as the book's "WIT for Hyperware" describes them: mathlib's component exports
// the `mathlib` interface (Rust, glue by hand); calc (JavaScript) imports it. `kit build calc -l
// mathlib` builds mathlib first, moves its component into mathlib's API zip, composes it into
// calc's process, and calc, installed on a node, answers with mathlib's functions. Needs a Rust
// toolchain that builds for WASI (see rust.e2e.test.ts); skipped without one, never in CI.

import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import { nonStandardInterfaces } from '../../src/build/compose.js';
import { findRustToolchain } from '../../src/build/rust-toolchain.js';
import { REPO, runKit } from '../helpers/kit.js';
import { bootFakeNode, type FakeNode, freePort } from './helpers.js';

let skip: string | undefined;
try {
  await findRustToolchain({ processName: 'mathlib' });
} catch (e) {
  if (process.env.CI) throw e;
  skip = `no Rust toolchain for WASI here: ${(e as Error).message.split('\n')[0]}`;
}

describe('kit build: a library package composed into the package that depends on it', { timeout: 15 * 60_000 }, () => {
  let work: string;
  let node: FakeNode | undefined;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'kit-compose-'));
    for (const name of ['mathlib', 'calc']) cpSync(join(REPO, 'test/fixtures/packages', name), join(work, name), { recursive: true });
  });
  after(async () => {
    await node?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('builds the -l library, moves its component to the API zip, composes it into the importer, and the process runs it', { skip }, async () => {
    const calc = join(work, 'calc');
    const mathlib = join(work, 'mathlib');
    const built = await runKit(['build', calc, '-l', mathlib], { timeoutMs: 10 * 60_000 });
    assert.equal(built.code, 0, built.output);
    assert.match(built.output, /building local dependency .*mathlib/);
    assert.match(built.output, /calc: composed with hyperware:process\/mathlib@1\.0\.0/);

    // The library is not a process: it left mathlib's pkg/ for its API zip.
    assert.equal(existsSync(join(mathlib, 'pkg', 'mathlib.wasm')), false);
    const api = unzipSync(readFileSync(join(mathlib, 'pkg', 'api.zip')));
    assert.deepEqual(Object.keys(api).sort(), ['mathlib.wasm', 'mathlib:kit-tests.os-v0.wit']);
    assert.deepEqual(nonStandardInterfaces(api['mathlib.wasm']).exports, ['hyperware:process/mathlib@1.0.0']);
    // calc's component no longer imports the library interface: it carries it.
    assert.deepEqual(nonStandardInterfaces(readFileSync(join(calc, 'pkg', 'calc.wasm'))).imports, []);

    const port = await freePort();
    node = await bootFakeNode(port, join(work, 'home'));
    const started = await runKit(['start-package', calc, '-p', String(port)]);
    assert.equal(started.code, 0, started.output);
    const inject = (body: string) => runKit(['inject-message', 'calc:calc:kit-tests.os', body, '-p', String(port)]);
    const sum = await inject('{"Add":[40,2]}');
    assert.equal(sum.code, 0, sum.output);
    assert.match(sum.output, /\{"Sum":42\}/);
    // A string crosses from calc's memory into mathlib's and back.
    const greeting = await inject('{"Greet":"kit"}');
    assert.match(greeting.output, /\{"Greeting":"Hello, kit, from mathlib!"\}/);
  });

  it('composes from a node: the library installed there, its API zip carries the component', { skip }, async () => {
    assert.ok(node, 'the node of the first test');
    const installed = await runKit(['start-package', join(work, 'mathlib'), '-p', String(node.port)]);
    assert.equal(installed.code, 0, installed.output);
    const fresh = join(work, 'calc-from-node');
    cpSync(join(REPO, 'test/fixtures/packages/calc'), fresh, { recursive: true });
    const built = await runKit(['build', fresh, '-p', String(node.port)], { timeoutMs: 10 * 60_000 });
    assert.equal(built.code, 0, built.output);
    assert.match(built.output, /calc: composed with hyperware:process\/mathlib@1\.0\.0/);
    assert.deepEqual(nonStandardInterfaces(readFileSync(join(fresh, 'pkg', 'calc.wasm'))).imports, []);
  });

  it('a second build changes nothing: the same composed component, the same zip hash', { skip }, async () => {
    const calc = join(work, 'calc');
    const zip = readFileSync(join(calc, 'target', 'calc:kit-tests.zip'));
    const again = await runKit(['build', calc, '-l', join(work, 'mathlib')], { timeoutMs: 10 * 60_000 });
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /calc: up to date/);
    assert.deepEqual(readFileSync(join(calc, 'target', 'calc:kit-tests.zip')), zip);
  });
});
