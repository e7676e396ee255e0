// Bundling a TS/JS process into the single ES module componentize-js takes: the process's code,
// the process library (`kit/process`) and any npm packages it imports. The world's imports
// (`hyperware:process/...`) stay as imports: componentize-js binds them to the component's.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CompileError } from './errors.js';
import { kitRoot, processLibEntry } from './paths.js';

export interface BundleInput {
  packageDir: string;
  processName: string;
  entry: string;
  outFile: string;
  /** `kit build --features`, compiled in as `__KIT_FEATURES__` for the process library's hasFeature(). */
  features?: string[];
}

export interface BundleResult {
  /** Absolute paths of every file esbuild read. */
  inputs: string[];
}

export async function bundleProcess(input: BundleInput): Promise<BundleResult> {
  const esbuild = await import('esbuild');
  mkdirSync(dirname(input.outFile), { recursive: true });
  let result: import('esbuild').BuildResult<{ metafile: true }>;
  try {
    result = await esbuild.build({
      entryPoints: [input.entry],
      outfile: input.outFile,
      absWorkingDir: input.packageDir,
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      mainFields: ['module', 'main'],
      conditions: ['import', 'default'],
      alias: { 'kit/process': processLibEntry() },
      external: ['hyperware:*'],
      define: { __KIT_FEATURES__: JSON.stringify(input.features ?? []) },
      metafile: true,
      logLevel: 'silent',
      legalComments: 'none',
      // Written for embedSourceMap; the bundle itself carries no sourceMappingURL comment.
      sourcemap: 'external',
      sourcesContent: false,
      charset: 'utf8',
    });
  } catch (e) {
    const failure = e as import('esbuild').BuildFailure;
    const errors = failure.errors ?? [];
    if (errors.length === 0) throw e;
    throw new CompileError(
      input.processName,
      'esbuild',
      errors.map((m) => {
        const loc = m.location;
        const where = loc ? `${loc.file}:${loc.line}:${loc.column + 1}: ` : '';
        return `${where}error: ${m.text}`;
      }),
    );
  }
  embedSourceMap(input.outFile, input.packageDir);
  const inputs = Object.keys(result.metafile.inputs)
    .filter((p) => !p.includes(':') || isAbsolute(p))
    .map((p) => (isAbsolute(p) ? p : join(input.packageDir, p)));
  return { inputs };
}

/** The global the process library's test helpers read the map from (src/process-lib/testing.ts). */
const KIT_SOURCE_MAP = '__KIT_SOURCE_MAP__';

/**
 * When the bundle uses the test helpers (they name KIT_SOURCE_MAP, and esbuild drops them from any
 * bundle that does not call them), append its source map as that global, so that a failed
 * assertion is reported at the test's own file and line. Appending keeps every line of the bundle
 * where the map says it is. Sources are given relative to the package; kit's own (the process
 * library, through dist's maps back to src/) as `kit/...`, which the helpers skip to find the
 * test's own frame.
 */
function embedSourceMap(outFile: string, packageDir: string): void {
  const mapFile = `${outFile}.map`;
  try {
    const code = readFileSync(outFile, 'utf8');
    if (!code.includes(KIT_SOURCE_MAP)) return;
    const map = JSON.parse(readFileSync(mapFile, 'utf8')) as { sources: string[]; mappings: string };
    const kit = kitRoot();
    const sources = map.sources.map((s) => {
      const abs = resolve(dirname(outFile), s);
      const inKit = relative(kit, abs).split(sep).join('/');
      if (/^(src|dist)\//.test(inKit)) return `kit/${inKit}`;
      return relative(packageDir, abs).split(sep).join('/');
    });
    const embedded = JSON.stringify({ sources, mappings: map.mappings });
    writeFileSync(outFile, `${code.endsWith('\n') ? code : `${code}\n`}globalThis.${KIT_SOURCE_MAP} = ${embedded};\n`);
  } finally {
    rmSync(mapFile, { force: true });
  }
}
