// After `tsc`: write oclif.manifest.json (every command's id, aliases, args and flags) with
// @oclif/core's own loader, so `kit` starts without importing every command module; and the
// fake chain's compiled contracts (dist/src/chain/contracts.json), so an installed kit needs no solc.

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Plugin } from '@oclif/core';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

// ignoreManifest: build from the compiled commands, never from an older manifest;
// errorOnManifestCreate: a command that fails to load fails the build.
const plugin = new Plugin({ root, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true });
await plugin.load();
const path = join(root, 'oclif.manifest.json');
writeFileSync(path, `${JSON.stringify(plugin.manifest, null, 2)}\n`);
console.log(`wrote ${path} (${Object.keys(plugin.manifest.commands).length} commands)`);

// The fake chain's contracts, compiled now so that an installed kit needs no solc.
const { writeShippedArtifacts } = await import('../dist/src/chain/compile.js');
console.log(`wrote ${writeShippedArtifacts()}`);
