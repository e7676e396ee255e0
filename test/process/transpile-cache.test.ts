// The transpile cache checks its files (issue 19: a corrupt glue.js, core module or meta.json made
// the process fail to start on every node until the cache was deleted by hand): each entry
// records its files' sha256, and a damaged entry is transpiled again, with a warning.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildFixture, repoRoot } from '../../src/build/componentize.js';
import { createLogger } from '../../src/core/log.js';
import { sha256Hex, TranspileCache } from '../../src/runtime/process/transpile.js';
import { scratch } from '../security/helpers.js';

describe('transpile cache integrity', { timeout: 300_000 }, () => {
  const work = scratch('kit-transpile-cache-');
  let wasm: Uint8Array;
  let sha: string;
  const warnings: string[] = [];
  const log = createLogger({ file: null, terminal: (level, line) => (level === 'warning' ? warnings.push(line) : undefined) });
  before(async () => {
    wasm = await buildFixture(join(repoRoot(), 'test/fixtures/processes/echo.js'));
    sha = sha256Hex(wasm);
  });
  after(() => work.remove());

  /** A fresh cache (as a new node would open it) over the same folder. */
  const fresh = () => new TranspileCache(work.dir, log);

  it('records every file it wrote and reads it back unchanged', async () => {
    const t = await fresh().get(sha, wasm);
    const meta = JSON.parse(readFileSync(join(t.dir, 'meta.json'), 'utf8')) as { files: Record<string, string> };
    for (const name of ['glue.js', ...t.coreFiles]) assert.equal(meta.files[name], sha256Hex(readFileSync(join(t.dir, name))), name);
    assert.deepEqual(warnings, []);
  });

  for (const [what, damage] of [
    ['a truncated glue.js', (dir: string) => writeFileSync(join(dir, 'glue.js'), readFileSync(join(dir, 'glue.js')).subarray(0, 100))],
    ['a bit-flipped core module', (dir: string) => {
      const core = readdirSync(dir).find((f) => f.endsWith('.wasm')) as string;
      const b = readFileSync(join(dir, core));
      b[b.length >> 1] ^= 1;
      writeFileSync(join(dir, core), b);
    }],
    ['a garbled meta.json', (dir: string) => writeFileSync(join(dir, 'meta.json'), '{"imports": [')],
    ['a missing core module', (dir: string) => rmSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.wasm')) as string))],
  ] as const) {
    it(`transpiles again over ${what}, and says so`, async () => {
      const before = await fresh().get(sha, wasm);
      damage(before.dir);
      warnings.length = 0;
      const after = await fresh().get(sha, wasm);
      assert.match(warnings.join('\n'), /is damaged .*: transpiling it again/);
      const meta = JSON.parse(readFileSync(join(after.dir, 'meta.json'), 'utf8')) as { files: Record<string, string> };
      for (const name of ['glue.js', ...after.coreFiles]) assert.equal(meta.files[name], sha256Hex(readFileSync(join(after.dir, name))), name);
    });
  }
});
