// A one-off thread that runs jco's transpile (about 1-2 s of synchronous work inside a Wasm
// build of wit-bindgen), so the kernel's event loop keeps routing messages meanwhile.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

const { wasm, outDir, glueName } = workerData as { wasm: Uint8Array; outDir: string; glueName: string };

/**
 * jco's glue calls `_debugLog` several times per import call, and each call reads
 * `process.env.JCO_DEBUG`: measured 20-25% of a message round trip. Unless JCO_DEBUG is set
 * now, make it a no-op (left as is if jco ever words it differently).
 */
function quietDebugLog(glue: string): string {
  if (process.env.JCO_DEBUG) return glue;
  return glue.replace(
    /const _debugLog = \(\.\.\.args\) => \{\s*if \(!globalThis\?\.process\?\.env\?\.JCO_DEBUG\) \{ return; \}\s*console\.debug\(\.\.\.args\);\s*\};/,
    'const _debugLog = () => {};',
  );
}

/**
 * jco emits an ES module with no imports and two exports. We store it as a classic script that
 * evaluates to `{ instantiate }`, so workers can load it through vm.Script with a V8 code cache
 * (Node 20 has none for ES modules): that halves the glue's load and instantiate time.
 */
function toScript(esm: string): string {
  const head = 'export function instantiate(';
  if (!esm.includes(head)) throw new Error('unexpected jco output: no `export function instantiate(`');
  const body = quietDebugLog(esm.replace(head, 'function instantiate(').replace(/^export const _util\b/m, 'const _util'));
  if (/^export\s/m.test(body) || /^import\s/m.test(body)) throw new Error('unexpected jco output: more imports or exports than expected');
  return `(function () {\n${body}\nreturn { instantiate };\n})`;
}

try {
  const { transpile } = await import('@bytecodealliance/jco');
  const t0 = performance.now();
  const { files, imports } = await transpile(wasm, {
    name: 'proc',
    instantiation: 'sync',
    noTypescript: true,
    quiet: true,
    // measured about 10% faster message handling, with the same results
    validLiftingOptimization: true,
  });
  const ms = performance.now() - t0;
  mkdirSync(outDir, { recursive: true });
  const coreFiles: string[] = [];
  for (const [name, bytes] of Object.entries(files)) {
    if (name.endsWith('.d.ts')) continue;
    if (name === 'proc.js') writeFileSync(join(outDir, glueName), toScript(new TextDecoder().decode(bytes)));
    else {
      writeFileSync(join(outDir, name), bytes);
      if (name.endsWith('.wasm')) coreFiles.push(name);
    }
  }
  parentPort!.postMessage({ ok: true, imports, coreFiles, ms });
} catch (e) {
  parentPort!.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) });
}
