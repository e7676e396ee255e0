// The UI dependency cache: one key for the same locked dependencies whatever the package's name,
// and a hit copies node_modules instead of running npm.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ensureUiDeps, npmInstallNeeded, uiDepsKey } from '../../src/build/ui-deps.js';

const root = mkdtempSync(join(tmpdir(), 'kit-ui-deps-'));
after(() => rmSync(root, { recursive: true, force: true }));

function ui(name: string, pkgName: string, deps: Record<string, string>, lock = true): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: pkgName, dependencies: deps }));
  if (lock) {
    const packages: Record<string, unknown> = { '': { name: pkgName, dependencies: deps } };
    for (const [d, v] of Object.entries(deps)) packages[`node_modules/${d}`] = { version: v.replace('^', '') };
    writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: pkgName, lockfileVersion: 3, packages }));
  }
  return dir;
}

describe('UI dependency cache', () => {
  it('keys by the locked dependencies, not by the package name', () => {
    const a = ui('a', 'one-ui', { react: '^19.2.0' });
    const b = ui('b', 'two-ui', { react: '^19.2.0' });
    const c = ui('c', 'one-ui', { react: '^18.0.0' });
    assert.ok(uiDepsKey(a));
    assert.equal(uiDepsKey(a), uiDepsKey(b));
    assert.notEqual(uiDepsKey(a), uiDepsKey(c));
    assert.equal(uiDepsKey(ui('d', 'x', { react: '^19.2.0' }, false)), undefined, 'nothing to key on without a lock file');
  });

  it('copies node_modules from the cache on a hit, links included', async () => {
    const dir = ui('hit', 'hit-ui', { react: '^19.2.0' });
    const key = uiDepsKey(dir) as string;
    const cacheDir = join(root, 'cache');
    const cached = join(cacheDir, key, 'node_modules');
    mkdirSync(join(cached, 'react'), { recursive: true });
    mkdirSync(join(cached, '.bin'), { recursive: true });
    writeFileSync(join(cached, 'react', 'index.js'), 'module.exports = 1;');
    symlinkSync('../react/index.js', join(cached, '.bin', 'react'));
    writeFileSync(join(cached, '.package-lock.json'), JSON.stringify({ packages: { 'node_modules/react': { version: '19.2.0' } } }));
    assert.equal(npmInstallNeeded(dir), true);
    assert.deepEqual(await ensureUiDeps({ name: 'ui', dir, verbose: false, cacheDir }), { how: 'cached' });
    assert.ok(existsSync(join(dir, 'node_modules', 'react', 'index.js')));
    assert.equal(readlinkSync(join(dir, 'node_modules', '.bin', 'react')), '../react/index.js');
    assert.equal(npmInstallNeeded(dir), false);
    assert.deepEqual(await ensureUiDeps({ name: 'ui', dir, verbose: false, cacheDir }), { how: 'present' });
  });
});
