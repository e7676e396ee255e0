// The first thing a newcomer does: install the published package and use it outside this
// repository. `npm pack` makes the tarball npm would publish; it is installed globally into a fresh
// prefix with the install line README gives, and that installed `kit` creates, builds and installs a
// package on a node it boots itself, from a folder that knows nothing of this checkout.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type KitResult, REPO, runCommand } from '../helpers/kit.js';
import { exited, freePort } from './helpers.js';

describe('the packed tarball, installed as README says, works outside the repository', { timeout: 30 * 60_000 }, () => {
  let work: string;
  let prefix: string;
  let kit: string;
  let env: NodeJS.ProcessEnv;
  let install: KitResult;
  let node: ChildProcess | undefined;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kit-pack-'));
    prefix = join(work, 'prefix');
    const pack = await runCommand('npm', ['pack', '--silent', '--pack-destination', work], { cwd: REPO });
    assert.equal(pack.code, 0, pack.stderr);
    const tarball = join(work, pack.stdout.trim().split('\n').pop() ?? '');
    assert.ok(existsSync(tarball), `npm pack made ${tarball}`);
    // README's install line: the install scripts kit needs, as package.json's allowScripts lists them.
    const allow = Object.entries((JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> }).allowScripts)
      .filter(([, ok]) => ok)
      .map(([name]) => name);
    install = await runCommand('npm', ['install', '-g', '--prefix', prefix, tarball, `--allow-scripts=${allow.join(',')}`, '--no-audit', '--no-fund'], {
      cwd: work,
      timeoutMs: 20 * 60_000,
    });
    kit = join(prefix, 'bin', 'kit');
    // Only the installed kit on PATH: nothing from this checkout.
    env = { PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, KIT_CACHE: join(work, 'cache') };
  });

  after(async () => {
    if (node && node.exitCode === null) {
      const done = exited(node);
      node.kill('SIGINT');
      await done;
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('installs without peer-dependency or install-script warnings', () => {
    assert.equal(install.code, 0, `${install.stdout}\n${install.stderr}`);
    const output = `${install.stdout}\n${install.stderr}`;
    assert.doesNotMatch(output, /ERESOLVE|peer dep|overriding peer/i, output);
    assert.doesNotMatch(output, /install-scripts|not yet covered by allowScripts/i, output);
    assert.ok(existsSync(kit), `the kit binary at ${kit}`);
    const warnings = output.split('\n').filter((l) => /^npm warn/i.test(l));
    if (warnings.length > 0) console.log(`npm's other warnings:\n${warnings.join('\n')}`);
  });

  it('`kit new`, `kit build` and `kit start-package` work from a folder outside the repository', async () => {
    const version = await runCommand(kit, ['--version'], { cwd: work, env });
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^kit \d+\.\d+\.\d+/);

    const created = await runCommand(kit, ['new', 'my-app', '-t', 'echo', '-l', 'typescript'], { cwd: work, env });
    assert.equal(created.code, 0, `${created.stdout}\n${created.stderr}`);
    const built = await runCommand(kit, ['build', 'my-app'], { cwd: work, env, timeoutMs: 15 * 60_000 });
    assert.equal(built.code, 0, `${built.stdout}\n${built.stderr}`);
    assert.ok(existsSync(join(work, 'my-app', 'pkg', 'my-app.wasm')), 'build put the component in pkg/');

    const port = await freePort();
    node = spawn(kit, ['boot-fake-node', '--detached', '-p', String(port), '-o', join(work, 'home'), '-c', String(await freePort())], {
      cwd: work,
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    const deadline = Date.now() + 120_000;
    for (;;) {
      assert.equal(node.exitCode, null, 'the installed kit boots a node');
      try {
        if ((await fetch(`http://localhost:${port}/our`)).ok) break;
      } catch {}
      assert.ok(Date.now() < deadline, 'the node answers within 2 minutes');
      await new Promise((r) => setTimeout(r, 200));
    }
    const started = await runCommand(kit, ['start-package', 'my-app', '-p', String(port)], { cwd: work, env, timeoutMs: 5 * 60_000 });
    assert.equal(started.code, 0, `${started.stdout}\n${started.stderr}`);
    const answer = await runCommand(kit, ['inject-message', 'my-app:my-app:template.os', '"hello from outside"', '-p', String(port)], { cwd: work, env });
    assert.equal(answer.code, 0, `${answer.stdout}\n${answer.stderr}`);
  });
});
