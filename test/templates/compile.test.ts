// The templates compile: every process of every generated package (both languages, test packages
// included) bundles with esbuild into one ES module whose only import is the WIT host interface,
// and the sources typecheck against kit/process (JS through checkJs), which catches names the
// placeholder replacement could have broken. Componentizing them is kit build's test.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { build } from 'esbuild';
import ts from 'typescript';
import { cleanup, type Generated, generateAll, processDirs, ROOT } from './helpers.js';

const PROCESS_LIB_JS = join(ROOT, 'dist', 'src', 'process-lib', 'index.js');
const PROCESS_LIB_TS = join(ROOT, 'src', 'process-lib', 'index.ts');

let all: Generated[];

before(async () => {
  all = await generateAll();
});
after(cleanup);

/** Every process entry of a generated package: top-level processes and the test package's. */
function entries(g: Generated): string[] {
  const testDir = join(g.dir, 'test', 'my-app-test');
  return [
    ...processDirs(g.dir, g.ext).map((p) => join(g.dir, p, 'src', `lib.${g.ext}`)),
    ...processDirs(testDir, g.ext).map((p) => join(testDir, p, 'src', `lib.${g.ext}`)),
  ];
}

async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    external: ['hyperware:process/*'],
    alias: { 'kit/process': PROCESS_LIB_JS },
    define: { __KIT_FEATURES__: '["test"]' },
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

test('every process bundles to one ES module that imports only the host interface', async () => {
  let count = 0;
  for (const g of all) {
    for (const entry of entries(g)) {
      const code = await bundle(entry);
      const imports = [...code.matchAll(/^import\s[^;]*?from\s*"([^"]+)"/gm)].map((m) => m[1]);
      assert.deepEqual([...new Set(imports)], ['hyperware:process/standard@1.0.0'], entry);
      assert.match(code, /^export\s*\{[^}]*\binit\b[^}]*\}/m, `${entry} does not export init`);
      assert.doesNotMatch(code, /\bfrom\s*"node:|require\(/, `${entry} pulls in node modules`);
      count++;
    }
  }
  // Per language: blank 1, chat 2, echo 1, fibonacci 2, file-transfer 4 processes, plus 5 tests.
  assert.equal(count, 30);
});

test('the process library alone bundles without node built-ins', async () => {
  const code = await bundle(PROCESS_LIB_JS);
  const imports = [...code.matchAll(/^import\s[^;]*?from\s*"([^"]+)"/gm)].map((m) => m[1]);
  assert.deepEqual([...new Set(imports)], ['hyperware:process/standard@1.0.0']);
});

function typecheck(files: string[], js: boolean): string[] {
  const program = ts.createProgram([...files, join(ROOT, 'src', 'process-lib', 'wit.d.ts')], {
    noEmit: true,
    // Plain JS gets the checks that need no annotations: unknown names, wrong imports and calls.
    strict: !js,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules', '@types')],
    allowJs: js,
    checkJs: js,
    skipLibCheck: true,
    paths: { 'kit/process': [PROCESS_LIB_TS] },
  });
  // In JS, message.json() gives `unknown` (there is no type argument to pass): using it is fine
  // there. kit/process itself is checked strictly by the project's own tsc run.
  const aboutUnknown = (d: ts.Diagnostic) => /\bunknown\b/.test(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => !d.file?.fileName.startsWith(ROOT))
    .filter((d) => !(js && aboutUnknown(d)))
    .map((d) => {
      const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      const file = d.file ? `${d.file.fileName}:${(where?.line ?? 0) + 1}: ` : '';
      return `${file}TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}

test('the TypeScript templates typecheck (strict) against kit/process', () => {
  assert.deepEqual(typecheck(all.filter((g) => g.ext === 'ts').flatMap(entries), false), []);
});

test('the JavaScript templates use only names and calls that exist', () => {
  assert.deepEqual(typecheck(all.filter((g) => g.ext === 'js').flatMap(entries), true), []);
});
