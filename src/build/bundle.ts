// Bundling a TS/JS process into the single ES module componentize-js takes: the process's code,
// the process library (`kit/process`) and any npm packages it imports. The world's imports
// (`hyperware:process/...`) stay as imports: componentize-js binds them to the component's.

import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { CompileError } from './errors.js';
import { processLibEntry } from './paths.js';

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
      sourcemap: false,
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
  const inputs = Object.keys(result.metafile.inputs)
    .filter((p) => !p.includes(':') || isAbsolute(p))
    .map((p) => (isAbsolute(p) ? p : join(input.packageDir, p)));
  return { inputs };
}
