// Editor support in a freshly created package: `tsc --noEmit` (what an editor runs) resolves
// kit/process and the guest globals through the package's own tsconfig.json and passes for every
// TypeScript template, with nothing installed in the package; a type error is reported; the link
// to kit that makes it work is mended by kit build's helper when it is missing or stale.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { EDITOR_LINK, linkKitForEditors } from '../../src/templates/editor.js';
import { createPackage, TEMPLATES } from '../../src/templates/index.js';
import { cleanup, ROOT, TEMPLATES_ROOT, tempDir } from './helpers.js';

after(cleanup);

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** `tsc --noEmit` in the package folder, as a user (or an editor) runs it there. */
function tsc(dir: string): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [TSC, '--noEmit'], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

async function fresh(template: (typeof TEMPLATES)[number], opts: { ui?: boolean; language?: string } = {}): Promise<string> {
  const dir = join(tempDir('kit-editor-'), `my-${template}`);
  await createPackage({ dir, template, ui: opts.ui, language: opts.language ?? 'typescript', templatesRoot: TEMPLATES_ROOT });
  return dir;
}

for (const template of TEMPLATES) {
  test(`tsc --noEmit passes in a fresh ${template} package (TypeScript)`, async () => {
    const dir = await fresh(template);
    assert.ok(existsSync(join(dir, 'tsconfig.json')));
    assert.ok(existsSync(join(dir, 'package.json')));
    const r = tsc(dir);
    assert.equal(r.status, 0, r.output);
    assert.equal(r.output, '');
  });
}

test('tsc --noEmit passes in a fresh chat package with a UI (the UI has its own tsconfig)', async () => {
  const dir = await fresh('chat', { ui: true });
  const r = tsc(dir);
  assert.equal(r.status, 0, r.output);
});

test('tsc reports a type error, and a web API the guest lacks, in the package and its test package', async () => {
  const dir = await fresh('echo');
  appendFileSync(join(dir, 'my-echo', 'src', 'lib.ts'), "\nexport const wrong: number = 'text';\n");
  appendFileSync(join(dir, 'test', 'my-echo-test', 'my-echo-test', 'src', 'lib.ts'), "\nvoid fetch('http://example.com');\n");
  const r = tsc(dir);
  assert.equal(r.status, 2, r.output);
  assert.match(r.output, /my-echo\/src\/lib\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
  assert.match(r.output, /my-echo-test\/src\/lib\.ts\(\d+,\d+\): error TS2304: Cannot find name 'fetch'/);
});

test('JavaScript packages get a jsconfig.json and the same link', async () => {
  const dir = await fresh('chat', { language: 'javascript' });
  assert.ok(existsSync(join(dir, 'jsconfig.json')));
  assert.equal(resolve(dir, '.kit', readlinkSync(join(dir, EDITOR_LINK))), ROOT);
});

test('the link to kit is made again when it is missing or points elsewhere', async () => {
  const dir = await fresh('blank');
  const link = join(dir, EDITOR_LINK);
  rmSync(link);
  assert.equal(linkKitForEditors(dir), true);
  assert.equal(readlinkSync(link), ROOT);
  rmSync(link);
  symlinkSync(tempDir(), link);
  assert.equal(linkKitForEditors(dir), true);
  assert.equal(readlinkSync(link), ROOT);
  assert.equal(tsc(dir).status, 0);
  // A package whose config does not use the link (older packages, hand-made ones) is left alone.
  rmSync(join(dir, 'tsconfig.json'));
  rmSync(join(dir, '.kit'), { recursive: true });
  assert.equal(linkKitForEditors(dir), false);
  assert.equal(existsSync(join(dir, '.kit')), false);
});
