// `kit build`'s flags (names, short names and text from the book's `kit build --help`), shared by
// `kit build` and `kit build-start-package`, and their translation into BuildOptions.

import { Flags } from '@oclif/core';
import { nodePortFlag, skipDepsCheckFlag } from '../cli/flags.js';
import type { Logger } from '../core/log.js';
import type { BuildOptions } from './build.js';

export const buildFlags = {
  'no-ui': Flags.boolean({ description: 'If set, do NOT build the web UI for the process; no-op if passed with UI_ONLY' }),
  'ui-only': Flags.boolean({ description: 'If set, build ONLY the web UI for the process; no-op if passed with NO_UI' }),
  include: Flags.string({ char: 'i', multiple: true, helpValue: '<INCLUDE>', description: 'Build only these processes/UIs (can specify multiple times) [default: build all]' }),
  exclude: Flags.string({ char: 'e', multiple: true, helpValue: '<EXCLUDE>', description: 'Build all but these processes/UIs (can specify multiple times) [default: build all]' }),
  'skip-deps-check': skipDepsCheckFlag,
  features: Flags.string({
    helpValue: '<FEATURES>',
    description: 'Pass these comma-delimited feature flags to Rust cargo builds (Rust processes only)',
  }),
  port: nodePortFlag,
  'download-from': Flags.string({
    char: 'd',
    helpValue: '<NODE>',
    description: 'Download API from this node if not found (accepted; here dependency APIs come from -l folders or the node at --port)',
  }),
  world: Flags.string({ char: 'w', helpValue: '<WORLD>', description: 'WIT world to build against [default: the process world in api/*.wit, else process-v1]' }),
  'local-dependency': Flags.string({
    char: 'l',
    multiple: true,
    helpValue: '<DEPENDENCY_PACKAGE_PATH>',
    description: 'Path to local dependency package (can specify multiple times)',
  }),
  'add-to-api': Flags.string({ char: 'a', multiple: true, helpValue: '<PATH>', description: 'Path to file to add to api.zip (can specify multiple times)' }),
  rewrite: Flags.boolean({
    description: "Rewrite the package (enables `Spawn!()`) [default: don't rewrite]; here refused when a Rust process calls Spawn!() (no Rust rewriter), a no-op otherwise",
  }),
  reproducible: Flags.boolean({
    char: 'r',
    description:
      'Make a reproducible build: no Docker here; identical sources reuse the components built before, so the zip hash stays the same on this machine (a fresh componentize, after --force or reset-cache, gives other bytes)',
  }),
  force: Flags.boolean({ char: 'f', description: 'Force a rebuild' }),
  dev: Flags.boolean({
    description:
      'Development build: kit snapshots each JS/TS process itself instead of running componentize-js (a second instead of 5-15 s; the same code and imports, for kit watch, run-tests and start-package; `kit publish` refuses it)',
  }),
  toolchain: Flags.string({
    helpValue: '<TOOLCHAIN>',
    parse: async (value) => parseRustToolchain(value),
    description:
      "Rust toolchain to use (e.g., '+stable', '+1.85.1', '+nightly'), passed to cargo as `cargo +TOOLCHAIN` [default: rustup's 1.85.1 if installed, else the first of `cargo` on PATH and /usr/bin/cargo that can build for wasm32-wasip1/wasm32-wasi]",
  }),
  verbose: Flags.boolean({ char: 'v', description: 'If set, output stdout and stderr' }),
};

/** `--toolchain`'s value, checked as the real kit checks it (a `+` then a channel or version). */
export function parseRustToolchain(value: string): string {
  if (!value.startsWith('+')) throw new Error(`Rust toolchain must start with '+' (e.g., '+stable', '+1.85.1', '+nightly'); got '${value}'`);
  const name = value.slice(1);
  if (name.length === 0) throw new Error("Rust toolchain cannot be empty after '+'");
  if (!/^[\p{L}\p{N}._-]+$/u.test(name)) throw new Error(`Invalid characters in Rust toolchain specification '${value}'`);
  return value;
}

export interface BuildFlagValues {
  'no-ui'?: boolean;
  'ui-only'?: boolean;
  include?: string[];
  exclude?: string[];
  'skip-deps-check'?: boolean;
  features?: string;
  port: number;
  'download-from'?: string;
  world?: string;
  'local-dependency'?: string[];
  'add-to-api'?: string[];
  rewrite?: boolean;
  reproducible?: boolean;
  force?: boolean;
  dev?: boolean;
  verbose?: boolean;
  toolchain?: string;
}

export function buildOptionsFromFlags(dir: string | undefined, flags: BuildFlagValues, logger: Logger): BuildOptions {
  return {
    dir: dir ?? process.cwd(),
    noUi: flags['no-ui'],
    uiOnly: flags['ui-only'],
    include: flags.include,
    exclude: flags.exclude,
    skipDepsCheck: flags['skip-deps-check'],
    features: flags.features,
    port: flags.port,
    downloadFrom: flags['download-from'],
    world: flags.world,
    localDependencies: flags['local-dependency'],
    addToApi: flags['add-to-api'],
    rewrite: flags.rewrite,
    reproducible: flags.reproducible,
    force: flags.force,
    dev: flags.dev,
    verbose: flags.verbose,
    toolchain: flags.toolchain,
    logger,
  };
}
