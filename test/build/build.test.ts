// kit build with the real componentize-js (each component takes 4-10 s here, so this file makes
// four): components in pkg/, the zip kit start-package reads, no-op and one-process rebuilds,
// a zip whose sha256 depends only on the sources, and the echo template.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import { type BuildResult, buildPackage } from '../../src/build/build.js';
import { sha256 } from '../../src/build/hash.js';
import type { Logger } from '../../src/core/log.js';
import { createPackage } from '../../src/templates/index.js';
import { runKit } from '../helpers/kit.js';
import { isComponent, MANIFEST, metadataJson, writeFiles, writePackage } from './helpers.js';

const API_WIT = `interface greet {
  variant request {
    hello(string),
  }
}

world greet-kit-tests-dot-os-v0 {
  import greet;
  include process-v1;
}
`;

// A TypeScript process on the process library, and a JavaScript one on the bare WIT.
const ALPHA = `import { awaitMessage, callInit, println, respond } from 'kit/process';

export const init = callInit((our) => {
  println(\`alpha: begin on \${our.node}\`);
  for (;;) {
    const message = awaitMessage();
    respond(JSON.stringify({ hello: message.source.node }));
  }
});
`;

const BETA = `import { printToTerminal, receive } from 'hyperware:process/standard@1.0.0';

export function init(our) {
  printToTerminal(0, 'beta: begin ' + our);
  for (;;) receive();
}
`;

function recordingLogger(lines: string[]): Logger {
  const make = (): Logger => ({
    debug: () => {},
    info: (m) => lines.push(m),
    warning: (m) => lines.push(`warning: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
    child: () => make(),
  });
  return make();
}

describe('kit build (componentize-js)', () => {
  const dir = writePackage({
    'metadata.json': metadataJson('greet', 'kit-tests.os'),
    'pkg/manifest.json': MANIFEST(['alpha', 'beta']),
    'api/greet:kit-tests.os-v0.wit': API_WIT,
    'alpha/src/lib.ts': ALPHA,
    'beta/src/lib.js': BETA,
  });
  // A cache of our own, so components from earlier runs do not stand in for componentize here.
  const componentCacheDir = writePackage({}, 'kit-build-cache-');
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(componentCacheDir, { recursive: true, force: true });
  });
  const lines: string[] = [];
  // One componentize at a time: the machine has two cores and each needs ~780 MB.
  const build = () => buildPackage({ dir, jobs: 1, progress: null, logger: recordingLogger(lines), componentCacheDir });
  let first: BuildResult;

  it('builds each process to a component and zips pkg/ under the name start-package reads', async () => {
    first = await build();
    assert.deepEqual([...first.rebuilt].sort(), ['alpha', 'beta']);
    assert.equal(first.componentized, 2);
    assert.equal(first.world, 'greet-kit-tests-dot-os-v0');
    for (const name of ['alpha', 'beta']) {
      const wasm = readFileSync(join(dir, 'pkg', `${name}.wasm`));
      assert.ok(isComponent(wasm), `${name}.wasm starts with the component header`);
    }
    assert.equal(first.zipPath, join(dir, 'target', 'greet:kit-tests.zip'));
    const zip = readFileSync(first.zipPath);
    assert.equal(first.zipHash, sha256(zip));
    assert.ok(lines.includes(`package zip hash: ${first.zipHash}`));
    assert.deepEqual(Object.keys(unzipSync(zip)).sort(), ['alpha.wasm', 'api.zip', 'beta.wasm', 'manifest.json']);
    assert.ok(existsSync(join(dir, 'pkg', 'api.zip')));
  });

  it('finishes without componentizing when nothing changed', async () => {
    const r = await build();
    assert.equal(r.componentized, 0);
    assert.deepEqual(r.rebuilt, []);
    assert.equal(r.zipWritten, false);
    assert.equal(r.zipHash, first.zipHash);
  });

  it('rebuilds only the process that changed', async () => {
    // beta, on the bare WIT, depends on nothing outside the package (alpha also on kit/process).
    writeFiles(dir, { 'beta/src/lib.js': BETA.replace('beta: begin', 'beta: hello') });
    const r = await build();
    assert.deepEqual(r.rebuilt, ['beta']);
    assert.equal(r.componentized, 1);
    assert.notEqual(r.zipHash, first.zipHash);
  });

  it('gives the same zip sha256 for the same sources (reusing the component, not componentizing)', async () => {
    writeFiles(dir, { 'beta/src/lib.js': BETA });
    const r = await build();
    assert.deepEqual(r.rebuilt, ['beta']);
    assert.equal(r.componentized, 0);
    assert.equal(r.zipHash, first.zipHash);
  });
});

describe('kit build of the echo template', () => {
  it('builds a `kit new -t echo` package into the zip start-package reads', async () => {
    const root = writePackage({}, 'kit-build-echo-');
    const dir = join(root, 'echo');
    try {
      await createPackage({ dir, template: 'echo', language: 'typescript' });
      const r = await buildPackage({ dir, jobs: 1, progress: null, logger: recordingLogger([]), componentCacheDir: join(root, 'cache') });
      assert.deepEqual(r.rebuilt, ['echo']);
      assert.ok(isComponent(readFileSync(join(dir, 'pkg', 'echo.wasm'))));
      assert.equal(r.zipPath, join(dir, 'target', 'echo:template.zip'));
      const names = Object.keys(unzipSync(readFileSync(r.zipPath)));
      assert.ok(names.includes('echo.wasm') && names.includes('manifest.json'), names.join(', '));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('kit build (the command)', () => {
  it('prints a TypeScript error with file and line, and exits 1', async () => {
    const dir = writePackage({
      'metadata.json': metadataJson('bad', 'kit-tests.os'),
      'pkg/manifest.json': MANIFEST(['bad']),
      'bad/src/lib.ts': "export function init(our: string): void {\n  const n: number = our;\n  void n;\n}\n",
    });
    try {
      const r = await runKit(['build', dir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /bad\/src\/lib\.ts:2:9 - error TS2322/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says metadata.json is missing', async () => {
    const dir = writePackage({ 'pkg/manifest.json': '[]' });
    try {
      const r = await runKit(['b', dir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /metadata\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
