// The component cache finds what it should not trust (issue 19: every cached component truncated
// or bit-flipped, kit build said "component reused" and zipped the broken bytes): an entry whose
// bytes no longer match their recorded sha256, or an entry from before hashes that is not a whole
// component, is dropped (and said so) and the build makes it again.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildFixture, repoRoot } from '../../src/build/componentize.js';
import { ComponentCache, isWholeComponent } from '../../src/build/component-cache.js';

describe('component cache integrity', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kit-component-cache-'));
  let component: Uint8Array;
  const warnings: string[] = [];
  const cache = new ComponentCache(dir, (m) => warnings.push(m));
  before(async () => {
    component = await buildFixture(join(repoRoot(), 'test/fixtures/processes/echo.js'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives back what it was given', () => {
    cache.put('good', component);
    assert.deepEqual(cache.get('good'), component);
    assert.deepEqual(warnings, []);
  });

  for (const [name, damage] of [
    ['truncated', (b: Uint8Array) => b.subarray(0, b.length - 1000)],
    ['bit-flipped', (b: Uint8Array) => Uint8Array.from(b, (x, i) => (i === 5000 ? x ^ 0x10 : x))],
  ] as const) {
    it(`drops a ${name} entry, says so, and misses`, () => {
      cache.put(name, component);
      writeFileSync(join(dir, `${name}.wasm`), damage(component));
      warnings.length = 0;
      assert.equal(cache.get(name), undefined);
      assert.match(warnings.join('\n'), new RegExp(`cached component ${name} .* is damaged \\(its sha256 does not match`));
      assert.equal(existsSync(join(dir, `${name}.wasm`)), false);
    });
  }

  it('adopts a whole entry from before hashes, and drops a truncated one', () => {
    writeFileSync(join(dir, 'old.wasm'), component);
    assert.deepEqual(cache.get('old'), component);
    assert.match(readFileSync(join(dir, 'old.sha256'), 'utf8'), /^[0-9a-f]{64}\n$/);
    writeFileSync(join(dir, 'oldcut.wasm'), component.subarray(0, component.length - 1));
    warnings.length = 0;
    assert.equal(cache.get('oldcut'), undefined);
    assert.match(warnings.join('\n'), /not a whole Wasm component/);
  });

  it('tells a whole component from a cut one or a core module', () => {
    assert.equal(isWholeComponent(component), true);
    assert.equal(isWholeComponent(component.subarray(0, component.length - 1)), false);
    assert.equal(isWholeComponent(Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])), false);
  });
});
