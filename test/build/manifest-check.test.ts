// pkg/manifest.json problems are reported with their line and column: by src/core/manifest.ts
// (what kit build and kit start-package use), and by `kit build` before it builds anything
// (issue 19: it used to accept an invalid manifest, which failed only at install).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkManifestText, ManifestError } from '../../src/core/manifest.js';
import { runKit } from '../helpers/kit.js';

const ENTRY = {
  process_name: 'chat',
  process_wasm_path: '/chat.wasm',
  on_exit: 'Restart',
  request_networking: true,
  request_capabilities: ['http-server:distro:sys', { process: 'vfs:distro:sys', params: { root: true } }],
  grant_capabilities: [],
  public: false,
};
const pretty = (v: unknown) => JSON.stringify(v, null, 2);

/** The ManifestError `text` raises: its line:column and reason. */
function problem(text: string): string {
  try {
    checkManifestText(text, 'm.json');
  } catch (e) {
    if (e instanceof ManifestError) return `${e.position.line}:${e.position.column} ${e.reason}`;
    throw e;
  }
  return 'accepted';
}

describe('pkg/manifest.json with line and column', () => {
  it('accepts a manifest as Hyperdrive reads it (every field present, unknown ones ignored)', () => {
    assert.equal(checkManifestText(pretty([ENTRY, { ...ENTRY, process_name: 'other', extra: 1 }])).length, 2);
  });

  it('points at a syntax error', () => {
    assert.equal(problem('[\n  {"process_name": "chat",}\n]'), "2:27 not valid JSON: expected a property name in double quotes, found '}' (a comma before a closing brace is not allowed in JSON)");
    assert.match(problem('[\n  {"process_name": "ch\nat"}\n]'), /^2:23 not valid JSON: a string cannot hold a raw control character/);
    assert.match(problem('[1, 2'), /^1:6 not valid JSON: expected ',' or '\]' after a list item, found the end of the file/);
    assert.match(problem('[] x'), /^1:4 not valid JSON: unexpected 'x' after the end/);
  });

  it('points at the field with the wrong type, or at the entry missing one', () => {
    const text = pretty([{ ...ENTRY, request_networking: 'yes' }]);
    assert.equal(problem(text), `6:27 entry 0 ("chat"): "request_networking" must be true or false, not "yes"`);
    const { public: _, ...noPublic } = ENTRY;
    assert.equal(problem(pretty([ENTRY, noPublic])), `19:3 entry 1 ("chat"): "public" is missing; it must be true or false`);
  });

  it('points at a capability that is not a process ID', () => {
    const text = pretty([{ ...ENTRY, request_capabilities: ['http-server:distro:sys', 42] }]);
    assert.match(problem(text), /^9:7 entry 0 \("chat"\): request_capabilities\[1\] must be a process ID string/);
    assert.match(problem(pretty([{ ...ENTRY, grant_capabilities: ['not-a-process'] }])), /^17:7 entry 0 \("chat"\): grant_capabilities\[0\]: .not-a-process. is not a process ID/);
  });

  it('refuses unsafe or repeated names and wasm paths kit cannot install', () => {
    assert.match(problem(pretty([{ ...ENTRY, process_name: 'my_chat' }])), /^3:21 .*process_name is not Hypermap-safe/);
    assert.match(problem(pretty([ENTRY, ENTRY])), /^20:21 .*process_name "chat" appears twice/);
    assert.match(problem(pretty([{ ...ENTRY, process_wasm_path: 'chat.wasm' }])), /^4:26 .*must start with "\/" and end with "\.wasm"/);
  });
});

describe('kit build checks pkg/manifest.json before building', () => {
  const root = mkdtempSync(join(tmpdir(), 'kit-manifest-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('stops with the file, line and column', async () => {
    const dir = join(root, 'chat');
    mkdirSync(join(dir, 'pkg'), { recursive: true });
    const properties = { package_name: 'chat', publisher: 'template.os', current_version: '0.1.0', mirrors: [], code_hashes: { '0.1.0': '' }, wit_version: 1, dependencies: [] };
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ name: 'chat', description: '', image: '', external_url: '', animation_url: '', properties }));
    writeFileSync(join(dir, 'pkg/manifest.json'), pretty([{ ...ENTRY, on_exit: 'Sometimes' }]));
    const r = await runKit(['build', dir]);
    assert.equal(r.code, 1, r.output);
    assert.match(r.stderr, /pkg\/manifest\.json:5:16: entry 0 \("chat"\): "on_exit" must be "None", "Restart" or \{"Requests": \[\.\.\.\]\}, not "Sometimes"/);
    assert.match(r.stderr, /book\.hyperware\.ai/);
  });
});
