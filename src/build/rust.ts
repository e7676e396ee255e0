// Rust processes, as the real kit builds them (kit `build/mod.rs` compile_rust_wasm_process):
// `cargo [+toolchain] build -p <[package] name, _ -> -> --release --no-default-features --target
// <wasi target> --target-dir target [--features …]`, then the core module at
// target/<target>/release/<folder name, - -> _>.wasm is made a component with the WASI preview1
// reactor adapter (jco ships it and does `component new`, so neither wasm-tools nor a download is
// needed) and written to pkg/<folder name, _ -> ->.wasm. Which cargo: rust-toolchain.ts.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { ProcessDir } from './detect.js';
import { StepFailedError } from './errors.js';
import { run, tail } from './exec.js';
import { loadJco } from './jco.js';
import type { RustToolchain } from './rust-toolchain.js';
import { customSectionNames } from '../core/wasm-binary.js';

interface CargoToml {
  package?: { name?: string };
  features?: Record<string, unknown>;
  dependencies?: Record<string, { optional?: boolean } | string>;
}

/** `--features a,b` filtered to the features this crate has, as kit does. */
export function featuresFor(cargo: CargoToml, features: string): string[] {
  const wanted = features
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  const has = new Set(Object.keys(cargo.features ?? {}));
  for (const [name, dep] of Object.entries(cargo.dependencies ?? {})) if (typeof dep === 'object' && dep.optional) has.add(name);
  return wanted.filter((f) => has.has(f));
}

/** The `-p` cargo gets: `[package] name` with `_` turned into `-`, as the real kit's get_process_name does. */
export function cargoPackageName(cargo: CargoToml, manifestPath: string): string {
  const name = cargo.package?.name;
  if (typeof name !== 'string') throw new StepFailedError(`${manifestPath} has no [package] name.`, 'Every Rust process crate needs one: kit passes it to `cargo build -p`.');
  return name.replaceAll('_', '-');
}

/** Where cargo leaves the core module: named after the process folder with `-` turned into `_`, as the real kit looks for it. */
export function coreWasmPath(targetDir: string, target: string, folderName: string): string {
  return join(targetDir, target, 'release', `${folderName.replaceAll('-', '_')}.wasm`);
}

/**
 * What to install after a failed cargo run, from its output: the linker, the WebAssembly standard
 * library, crates.io, a rustup toolchain. The output itself is always shown too.
 */
export function cargoToolHint(output: string): string | undefined {
  if (/linker `?(rust-lld|wasm-ld)`? not found|could not exec the linker|error: linking with `rust-lld`/.test(output))
    return 'The WebAssembly linker is missing: on Debian/Ubuntu `apt-get install lld` (wasm-ld); with rustup it comes with the toolchain.';
  if (/can't find crate for `(std|core)`/.test(output)) return 'The toolchain lacks the WebAssembly standard library: `rustup target add wasm32-wasip1`, or on Debian/Ubuntu `apt-get install libstd-rust-dev-wasm32`.';
  if (/failed to (get|load|download|fetch|update)|Could not resolve host|no matching package named|failed to select a version|unable to update registry|index\.crates\.io/.test(output))
    return 'cargo could not fetch a crate: the first build of a crate with dependencies needs crates.io (or a vendored copy: `cargo vendor` and .cargo/config.toml).';
  if (/no such (sub)?command: `?\+/.test(output) || /toolchain '.*' is not installed/.test(output))
    return '--toolchain +X needs rustup with that toolchain installed (`rustup toolchain install X`); leave it out to use any toolchain that can build for WebAssembly.';
  return undefined;
}

/** cargoToolHint, plus what the real kit's crate naming means when cargo finds no such crate. */
export function cargoHint(output: string, crate: string, written = crate): string | undefined {
  if (/did not match any packages|cannot specify features for packages outside of workspace/.test(output))
    return written !== crate
      ? `kit builds the crate named by [package] name with \`_\` turned into \`-\` (\`-p ${crate}\`), as the real kit does, and cargo does not match names across \`_\`/\`-\`: name the crate \`${crate}\` in its Cargo.toml.`
      : `cargo found no workspace member named \`${crate}\`: list the process folder in [workspace] members of the package's Cargo.toml.`;
  return cargoToolHint(output);
}

export async function buildRust(opts: {
  packageDir: string;
  proc: ProcessDir;
  features: string;
  toolchain: RustToolchain;
  /** target/wit and the world: embedded when the crate did not embed one itself (see below). */
  witDir: string;
  world: string;
  verbose: boolean;
}): Promise<Uint8Array> {
  const { proc, toolchain } = opts;
  const manifest = join(proc.dir, 'Cargo.toml');
  if (!existsSync(manifest)) throw new StepFailedError(`process ${proc.name}: ${manifest} not found.`, 'A Rust process folder needs a Cargo.toml.');
  const cargo = parseToml(readFileSync(manifest, 'utf8')) as CargoToml;
  const crate = cargoPackageName(cargo, manifest);
  const features = featuresFor(cargo, opts.features);
  const cwd = existsSync(join(opts.packageDir, 'Cargo.toml')) ? opts.packageDir : proc.dir;
  const targetDir = join(opts.packageDir, 'target');
  const args = [...toolchain.cargoPrefix, 'build', '-p', crate, '--release', '--no-default-features', '--target', toolchain.target, '--target-dir', targetDir];
  if (features.length > 0) args.push('--features', features.join(','));
  const res = await run(toolchain.cargo, args, { cwd, verbose: opts.verbose, env: toolchain.env });
  if (res.missing) throw new StepFailedError(`process ${proc.name}: ${toolchain.cargo} is not installed.`, 'Install Rust (https://rustup.rs).');
  if (res.code !== 0)
    throw new StepFailedError(
      `process ${proc.name}: \`${toolchain.cargo} ${args.join(' ')}\` failed (${toolchain.description}):\n${tail(res.output)}`,
      cargoHint(res.output, crate, cargo.package?.name),
    );
  const core = coreWasmPath(targetDir, toolchain.target, proc.name);
  if (!existsSync(core))
    throw new StepFailedError(
      `process ${proc.name}: cargo succeeded but ${core} is missing.`,
      `kit looks for the core module by the process folder's name (as the real kit does): the crate must be a \`cdylib\` whose library is named \`${proc.name.replaceAll('-', '_')}\` ([lib] crate-type and name in its Cargo.toml).`,
    );
  const jco = await loadJco();
  let module: Uint8Array = readFileSync(core);
  // wit-bindgen embeds the world as a `component-type:…` custom section; a crate with its glue
  // written by hand has none, so the package's world is embedded here, as wit-bindgen would.
  if (!customSectionNames(module).some((n) => n.startsWith('component-type'))) module = await jco.componentEmbed({ binary: module, witPath: opts.witDir, world: opts.world });
  const adapter = readFileSync(jco.preview1AdapterReactorPath());
  try {
    return await jco.componentNew(module, [['wasi_snapshot_preview1', adapter]]);
  } catch (e) {
    throw new StepFailedError(
      `process ${proc.name}: making a component of ${core} failed: ${(e as Error).message}`,
      'Its imports and exports must match the world it was built for (hyperware:process/standard@1.0.0 and `init`).',
    );
  }
}

/** The version requirements of hyperware_process_lib in the workspace's crates, by requirement. */
export function processLibVersions(metadata: { packages?: Array<{ name: string; dependencies?: Array<{ name: string; req: string; source?: string | null }> }> }): Map<string, string[]> {
  const versions = new Map<string, string[]>();
  for (const pkg of metadata.packages ?? []) {
    for (const dep of pkg.dependencies ?? []) {
      if (dep.name !== PROCESS_LIB) continue;
      // A git dependency has req `*`; its version is the tag in the URL, as the real kit reads it.
      let version = dep.req;
      if (version === '*') {
        const tag = /\?tag=v([0-9]+\.[0-9]+\.[0-9]+)$/.exec(dep.source ?? '');
        if (!tag) {
          if (dep.source) continue; // a branch or rev: the real kit skips it too
        } else version = `^${tag[1]}`;
      }
      versions.set(version, [...(versions.get(version) ?? []), pkg.name]);
    }
  }
  return versions;
}

const PROCESS_LIB = 'hyperware_process_lib';

/**
 * B11: crates of one package must use one hyperware_process_lib version, or the build fails later
 * with link errors that do not say why. Read from `cargo metadata --no-deps --offline` (which
 * resolves workspace inheritance without fetching anything); a workspace cargo cannot read is
 * left to cargo build to report.
 */
export async function checkProcessLibVersions(packageDir: string, toolchain: RustToolchain): Promise<void> {
  const manifest = join(packageDir, 'Cargo.toml');
  if (!existsSync(manifest)) return;
  const res = await run(toolchain.cargo, [...toolchain.cargoPrefix, 'metadata', '--no-deps', '--offline', '--format-version', '1', '--manifest-path', manifest], {
    cwd: packageDir,
    env: toolchain.env,
  });
  if (res.code !== 0) return;
  let metadata: Parameters<typeof processLibVersions>[0];
  try {
    metadata = JSON.parse(res.stdout);
  } catch {
    return;
  }
  const versions = processLibVersions(metadata);
  if (versions.size > 1)
    throw new StepFailedError(
      `Found different versions of ${PROCESS_LIB} in different crates:\n${[...versions].map(([v, crates]) => `  ${v}\t${crates.join(', ')}`).join('\n')}`,
      `Set all ${PROCESS_LIB} versions to be the same (in each crate's Cargo.toml, or once in [workspace.dependencies]) to avoid hard-to-debug errors.`,
    );
}
