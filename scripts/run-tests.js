// What `npm test` runs after build and lint: node's test runner over every compiled
// dist/test/**/*.test.js (or the files/folders given as arguments), one file at a time by
// default because the machine has 2 cores and some suites build components. Prints node's
// summary and exits non-zero when anything fails.
//
//   node scripts/run-tests.js                      all tests
//   node scripts/run-tests.js dist/test/cli        one folder
//   KIT_TEST_CONCURRENCY=2 node scripts/run-tests.js

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const targets = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [join(root, 'dist', 'test')];

const files = [];
for (const target of targets) {
  const full = resolve(target);
  if (!existsSync(full)) {
    console.error(`run-tests: ${target} does not exist (did you run \`npm run build\`?)`);
    process.exit(1);
  }
  if (statSync(full).isDirectory()) collect(full);
  else files.push(full);
}
files.sort();
if (files.length === 0) {
  console.error('run-tests: no *.test.js files found; run `npm run build` first');
  process.exit(1);
}

const concurrency = process.env.KIT_TEST_CONCURRENCY ?? '1';
// Generous: some files boot nodes and build components, which take seconds each.
const timeoutMs = process.env.KIT_TEST_TIMEOUT_MS ?? String(20 * 60 * 1000);
console.log(`run-tests: ${files.length} files, concurrency ${concurrency}, timeout ${timeoutMs} ms per test`);

// --test-force-exit: a file whose tests are done but which leaks a handle (a server, a worker)
// would otherwise keep its process, and CI, waiting forever.
const result = spawnSync(
  process.execPath,
  ['--test', '--test-force-exit', `--test-concurrency=${concurrency}`, `--test-timeout=${timeoutMs}`, ...files.map((f) => relative(root, f))],
  { cwd: root, stdio: 'inherit' },
);
if (result.error) {
  console.error(`run-tests: could not start node: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);

function collect(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) collect(full);
    else if (entry.name.endsWith('.test.js')) files.push(full);
  }
}
