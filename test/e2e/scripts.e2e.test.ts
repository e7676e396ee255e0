// Terminal scripts as a developer uses them: `kit boot-fake-node` reading commands on its stdin,
// the fibonacci template (TypeScript: a `fibonacci` process and a `number` script declared in
// pkg/scripts.json) built and installed with the real `kit`, then the script typed into the
// node's terminal by name and by alias, and its errors.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO, runKit } from '../helpers/kit.js';
import { freePort } from './helpers.js';

const PKG = 'fibonacci-ts';
const SCRIPT = `number:${PKG}:template.os`;

describe('terminal scripts (scripts.json)', { timeout: 30 * 60_000 }, () => {
  let work: string;
  let home: string;
  let port: number;
  let child: ChildProcess;
  let out = '';

  /** Type a line into the node's terminal and wait until what it prints afterwards matches. */
  async function type(line: string, expected: RegExp): Promise<string> {
    const start = out.length;
    child.stdin?.write(`${line}\n`);
    for (let i = 0; i < 1200; i++) {
      const got = out.slice(start);
      if (expected.test(got)) return got;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.fail(`after typing ${JSON.stringify(line)} the node printed:\n${out.slice(start)}\n(expected ${expected})`);
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kit-scripts-e2e-'));
    home = join(work, 'home');
    port = await freePort();
    const chainPort = String(await freePort());
    child = spawn(process.execPath, [join(REPO, 'bin/run.js'), 'boot-fake-node', '-p', String(port), '-o', home, '-c', chainPort], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => {
      out += d;
    });
    child.stderr?.on('data', (d) => {
      out += d;
    });
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`boot-fake-node exited ${child.exitCode}:\n${out}`);
      if (i > 1200) throw new Error(`the node never answered /our:\n${out}`);
      try {
        if ((await fetch(`http://localhost:${port}/our`)).ok) break;
      } catch {}
      await new Promise((r) => setTimeout(r, 50));
    }
    const dir = join(work, PKG);
    let r = await runKit(['new', dir, '-t', 'fibonacci', '-l', 'typescript'], { cwd: work });
    assert.equal(r.code, 0, r.output);
    r = await runKit(['build', dir], { cwd: work, timeoutMs: 15 * 60_000 });
    assert.equal(r.code, 0, r.output);
    r = await runKit(['start-package', dir, '-p', String(port)], { cwd: work });
    assert.equal(r.code, 0, `${r.output}\nnode:\n${out.slice(-3000)}`);
  });

  after(async () => {
    if (child && child.exitCode === null) {
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await done;
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('runs a script by its process ID: it messages the package process, which prints', async () => {
    await type(`${SCRIPT} 10`, /fibonacci_ts\(10\) = 55/);
  });

  it('prints what a script returns, prefixed with its package', async () => {
    await type(SCRIPT, new RegExp(`${PKG}:template\\.os: usage: number:${PKG}:template\\.os <n>`));
  });

  it('runs a script by an alias, and forgets the alias when it is removed', async () => {
    await type(`alias fib ${SCRIPT}`, new RegExp(`alias fib set for ${SCRIPT}`));
    await type('fib 12', /fibonacci_ts\(12\) = 144/);
    await type('alias fib', /alias fib removed/);
    await type('fib 12', /error calling script: 'fib' not found, either as an alias or process ID/);
  });

  it('each run is a fresh process that is gone once the script returns', async () => {
    const scriptProcess = new RegExp(`\\d+:${PKG}:template\\.os`);
    let listing = '';
    for (let i = 0; i < 40; i++) {
      listing = await type('top', /running processes/);
      if (!scriptProcess.test(listing)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.doesNotMatch(listing, scriptProcess);
    assert.match(listing, new RegExp(`${PKG}:${PKG}:template\\.os`));
  });

  it("the book's `cat terminal:sys/pkg/scripts.json` and the system scripts work on `kit boot-fake-node`", async () => {
    await type('cat terminal:sys/pkg/scripts.json', /"peers\.wasm": \{/);
    await type('peers', /terminal:sys: identities of current connected peers:/);
    await type('get-providers', /terminal:sys: Found \d+ provider\(s\):/);
    await type('node-info:hns-indexer:sys fake.dev', /hns-indexer:sys: node info: Some\(/);
  });

  it("explains what is wrong: a name not in scripts.json, a package without one, a scripts.json that does not parse", async () => {
    await type(`nope:${PKG}:template.os 1`, /error calling script: script not in scripts\.json file/);
    await type('thing:absent:nobody.os', /error calling script: no scripts manifest in package/);
    writeFileSync(join(home, 'vfs', `${PKG}:template.os`, 'pkg', 'scripts.json'), '{"number.wasm": {"root": "yes"}}');
    await type(`${SCRIPT} 3`, /error calling script: could not parse scripts\.json file/);
  });
});
