// Two `kit build`s of one folder at once: the second is refused with the first one's pid, instead
// of both componentizing and overwriting each other's zip. A lock left by a build that was killed
// does not block the next one.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildLockPath, lockBuild } from '../../src/build/lock.js';
import { kit } from '../cli/helpers/cli.js';

let dir: string;
let other: ChildProcess;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kit-build-lock-'));
  writeFileSync(join(dir, 'metadata.json'), '{}');
  // Another live process, standing in for a build that is running.
  other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await once(other, 'spawn');
});

after(() => {
  other.kill();
  rmSync(dir, { recursive: true, force: true });
});

function holdBy(pid: number) {
  mkdirSync(join(dir, 'target'), { recursive: true });
  writeFileSync(buildLockPath(dir), JSON.stringify({ pid }));
}

describe('one kit build per package folder', () => {
  test('kit build while another build holds the folder: refused, naming it, nothing else done', async () => {
    holdBy(other.pid as number);
    const r = await kit(['build', dir]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`^Error: another kit build \\(pid ${other.pid}\\) is building .* now\\nhint: wait for it to finish`, 'm'));
    assert.ok(existsSync(buildLockPath(dir)), 'the other build keeps its lock');
    rmSync(buildLockPath(dir));
  });

  test('in one process too; released, the folder can be built again', () => {
    const release = lockBuild(dir);
    assert.throws(() => lockBuild(dir), /another kit build \(pid \d+\) is building/);
    release();
    assert.ok(!existsSync(buildLockPath(dir)));
    lockBuild(dir)();
  });

  test('a lock left by a build that is gone is taken over', async () => {
    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await once(gone, 'exit');
    holdBy(gone.pid as number);
    const release = lockBuild(dir);
    release();
    writeFileSync(buildLockPath(dir), '{"pi');
    lockBuild(dir)();
  });
});
