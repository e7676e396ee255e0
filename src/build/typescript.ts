// Type-checking a TypeScript process with the TypeScript compiler API before it is bundled:
// esbuild strips types without checking them, so without this a type error would only show up
// as wrong behaviour on the node.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import type * as TS from 'typescript';
import { kitRoot, processLibEntry } from './paths.js';

/**
 * What a process can use besides the ECMAScript library (types/guest-globals.d.ts, shipped with kit:
 * the web APIs StarlingMonkey provides without any WASI feature). The same file serves editors
 * through the tsconfig.json of `kit new`.
 */
export function guestGlobalsPath(): string {
  return join(kitRoot(), 'types', 'guest-globals.d.ts');
}

export interface TypecheckInput {
  packageDir: string;
  processDir: string;
  entry: string;
  /** .d.ts files added as roots: the world's guest types and guestGlobalsPath(). */
  typeRoots: string[];
}

export interface TypecheckResult {
  /** `file:line:col - error TSnnnn: message`, file relative to the package. Empty when it checks. */
  diagnostics: string[];
  /** Every non-library source file the program read (inputs for the incremental build). */
  files: string[];
}

let tsModule: typeof TS | undefined;
// Library .d.ts files parse the same for every process; parsing them once saves most of the time.
const libCache = new Map<string, TS.SourceFile | undefined>();
// The last program per process: the next check of that process (kit watch) reuses the files
// that did not change.
const lastProgram = new Map<string, TS.Program>();
const sourceCache = new Map<string, { text: string; file: TS.SourceFile | undefined }>();

async function loadTs(): Promise<typeof TS> {
  // require, not import(): importing a CommonJS module from ESM makes Node scan its source for
  // named exports first, and typescript.js is 9 MB (measured: 1.5 s of a cold build's 4).
  tsModule ??= createRequire(import.meta.url)('typescript') as typeof TS;
  return tsModule;
}

function userOptions(ts: typeof TS, processDir: string, packageDir: string): { options: TS.CompilerOptions; configFile?: string } {
  for (const dir of [processDir, packageDir]) {
    const configFile = join(dir, 'tsconfig.json');
    if (!existsSync(configFile)) continue;
    const read = ts.readConfigFile(configFile, ts.sys.readFile);
    if (read.error) return { options: {}, configFile };
    const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(configFile), undefined, configFile);
    return { options: parsed.options, configFile };
  }
  return { options: {} };
}

export async function typecheck(input: TypecheckInput): Promise<TypecheckResult> {
  const ts = await loadTs();
  const user = userOptions(ts, input.processDir, input.packageDir);
  const libEntry = processLibEntry().replace(/\.js$/, '');
  const options: TS.CompilerOptions = {
    strict: true,
    ...user.options,
    // What the bundle and the guest require, whatever the tsconfig says:
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts'],
    types: [],
    noEmit: true,
    skipLibCheck: true,
    allowImportingTsExtensions: true,
    paths: { ...(user.options.paths ?? {}), 'kit/process': [libEntry] },
  };
  const host = ts.createCompilerHost(options);
  const readSource = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const key = `${fileName}\0${typeof languageVersion === 'object' ? languageVersion.languageVersion : languageVersion}`;
    if (fileName.includes(`${join('node_modules', 'typescript', 'lib')}`)) {
      if (!libCache.has(key)) libCache.set(key, readSource(fileName, languageVersion, onError, shouldCreate));
      return libCache.get(key);
    }
    // Other files are parsed again only when their text changed.
    const text = host.readFile(fileName);
    const hit = sourceCache.get(key);
    if (hit && text !== undefined && hit.text === text) return hit.file;
    const file = readSource(fileName, languageVersion, onError, shouldCreate);
    if (file && text !== undefined) sourceCache.set(key, { text, file });
    return file;
  };
  host.getCurrentDirectory = () => input.packageDir;
  const program = ts.createProgram({ rootNames: [input.entry, ...input.typeRoots], options, host, oldProgram: lastProgram.get(input.entry) });
  lastProgram.set(input.entry, program);
  const diagnostics = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (!d.file || d.start === undefined) return `error TS${d.code}: ${text}`;
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
      return `${relative(input.packageDir, d.file.fileName)}:${line + 1}:${character + 1} - error TS${d.code}: ${text}`;
    });
  const generated = new Set(input.typeRoots);
  const files = program
    .getSourceFiles()
    .filter((f) => !program.isSourceFileDefaultLibrary(f) && !generated.has(f.fileName))
    .map((f) => f.fileName);
  if (user.configFile) files.push(user.configFile);
  return { diagnostics, files };
}
