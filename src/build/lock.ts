// One `kit build` per package folder at a time. Two at once each componentize every process (twice
// the time) and the last to write the zip wins; the second is told instead. The lock holds the
// builder's pid, so one left by a build that was killed is taken over.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isPidAlive } from '../pid.js';
import { BuildError } from './errors.js';

export function buildLockPath(packageDir: string): string {
  return join(packageDir, 'target', 'kit-build.lock');
}

/** Packages this process is building now (its own pid in a lock is no proof of that). */
const building = new Set<string>();

/** Takes the package's build lock or throws BuildError naming the build that holds it; returns the release. */
export function lockBuild(packageDir: string): () => void {
  const path = buildLockPath(packageDir);
  mkdirSync(join(packageDir, 'target'), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify({ pid: process.pid }), { flag: 'wx' });
      building.add(packageDir);
      return () => {
        building.delete(packageDir);
        rmSync(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let pid: number | undefined;
    try {
      pid = (JSON.parse(readFileSync(path, 'utf8')) as { pid?: number }).pid;
    } catch {
      // unreadable: written by nobody we can name, or half-written by a build that was killed
    }
    const alive = pid !== undefined && (pid === process.pid ? building.has(packageDir) : isPidAlive(pid));
    if (alive)
      throw new BuildError(
        `another kit build (pid ${pid}) is building ${packageDir} now`,
        'wait for it to finish (then this build is up to date), or stop it; two builds of one folder would both componentize and overwrite each other',
      );
    rmSync(path, { force: true }); // left by a build that is gone
  }
  throw new BuildError(`could not take the build lock ${path}`, 'another build keeps taking it; try again');
}
