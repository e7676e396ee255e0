#!/usr/bin/env node
// `kit` on PATH: runs the oclif commands compiled to dist/src/commands.

import { readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flush, run } from '@oclif/core';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const args = process.argv.slice(2);

// Like the real kit (clap): `kit -v` / `kit --version` prints "kit <version>".
if (args.length === 1 && (args[0] === '-v' || args[0] === '--version')) {
  process.stdout.write(`kit ${pjson.version}\n`);
  process.exit(0);
}

dropStaleManifest();

// `-h` works like `--help` everywhere, and `kit --help` lists each command once with its aliases,
// as in the real kit.
const loadOptions = {
  root,
  pjson: { ...pjson, oclif: { ...pjson.oclif, additionalHelpFlags: ['-h'], helpClass: './dist/src/cli/help.js' } },
};
try {
  await run(args, loadOptions);
  await flush();
} catch (err) {
  // Everything a command did not handle (oclif's parse errors, a bug) leaves in kit's one shape.
  const { reportError } = await import('../dist/src/cli/report.js');
  process.exit(reportError(err));
}

// oclif trusts oclif.manifest.json over the compiled commands. After a bare `tsc` (no postbuild)
// the manifest can miss a new command or hold old flags; without it oclif reads the commands
// themselves, so a stale manifest is removed rather than believed.
function dropStaleManifest() {
  const manifestPath = join(root, 'oclif.manifest.json');
  let manifest;
  let manifestTime;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    manifestTime = statSync(manifestPath).mtimeMs;
  } catch {
    return;
  }
  const commandsDir = join(root, pjson.oclif.commands);
  const ids = [];
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.js')) {
        ids.push(relative(commandsDir, full).slice(0, -3).split('/').join(':'));
        newest = Math.max(newest, statSync(full).mtimeMs);
      }
    }
  };
  try {
    walk(commandsDir);
  } catch {
    return;
  }
  const listed = Object.keys(manifest.commands ?? {});
  const same = listed.length === ids.length && ids.every((id) => listed.includes(id));
  if (same && newest <= manifestTime) return;
  try {
    unlinkSync(manifestPath);
  } catch {
    // read-only install: nothing better to do than use it
  }
}
