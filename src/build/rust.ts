// Rust processes: `cargo build --target wasm32-wasip1`, then the core module is made a component
// with the WASI preview1 reactor adapter (jco ships it and does `component new`, so neither
// wasm-tools nor a download is needed). Building needs the wasm32-wasip1 target installed and,
// for the first build, crates.io: where they are missing the error says what to install.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { ProcessDir } from './detect.js';
import { StepFailedError, ToolchainError } from './errors.js';
import { run, tail } from './exec.js';
import { loadJco } from './jco.js';

let checked: Promise<void> | undefined;

/** Checks once per run that cargo and the wasm32-wasip1 target are installed. */
export function checkRustToolchain(processName: string): Promise<void> {
  checked ??= (async () => {
    const cargo = await run('cargo', ['--version'], { cwd: process.cwd() });
    if (cargo.missing || cargo.code !== 0)
      throw new ToolchainError(
        `process ${processName} is written in Rust, but cargo is not installed.`,
        'Install Rust with rustup (https://rustup.rs), then `rustup target add wasm32-wasip1`. Or pass -s/--skip-deps-check to try anyway.',
      );
    const sysroot = await run('rustc', ['--print', 'sysroot'], { cwd: process.cwd() });
    const dir = join(sysroot.output.trim(), 'lib', 'rustlib', 'wasm32-wasip1');
    if (sysroot.code !== 0 || !existsSync(dir)) {
      const version = (await run('rustc', ['--version'], { cwd: process.cwd() })).output.trim();
      throw new ToolchainError(
        `process ${processName} is written in Rust, but the wasm32-wasip1 target is not installed for ${version || 'rustc'}.`,
        'Install it with `rustup target add wasm32-wasip1` (the first build also needs crates.io). Or pass -s/--skip-deps-check to try anyway.',
      );
    }
  })();
  return checked;
}

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

export async function buildRust(opts: { packageDir: string; proc: ProcessDir; features: string; outPath: string; verbose: boolean }): Promise<Uint8Array> {
  const { proc } = opts;
  const manifest = join(proc.dir, 'Cargo.toml');
  if (!existsSync(manifest)) throw new StepFailedError(`process ${proc.name}: ${manifest} not found.`, 'A Rust process folder needs a Cargo.toml.');
  const cargo = parseToml(readFileSync(manifest, 'utf8')) as CargoToml;
  const crate = cargo.package?.name ?? proc.name;
  const features = featuresFor(cargo, opts.features);
  const cwd = existsSync(join(opts.packageDir, 'Cargo.toml')) ? opts.packageDir : proc.dir;
  const args = ['build', '-p', crate, '--release', '--no-default-features', '--target', 'wasm32-wasip1', '--target-dir', join(opts.packageDir, 'target')];
  if (features.length > 0) args.push('--features', features.join(','));
  const res = await run('cargo', args, { cwd, verbose: opts.verbose });
  if (res.missing) throw new ToolchainError(`process ${proc.name}: cargo is not installed.`, 'Install Rust with rustup (https://rustup.rs).');
  if (res.code !== 0) throw new StepFailedError(`process ${proc.name}: cargo build failed:\n${tail(res.output)}`);
  const core = join(opts.packageDir, 'target', 'wasm32-wasip1', 'release', `${crate.replaceAll('-', '_')}.wasm`);
  if (!existsSync(core)) throw new StepFailedError(`process ${proc.name}: cargo succeeded but ${core} is missing.`, 'Is the crate a `cdylib`? Check [lib] crate-type in its Cargo.toml.');
  const jco = await loadJco();
  const adapter = readFileSync(jco.preview1AdapterReactorPath());
  return jco.componentNew(readFileSync(core), [['wasi_snapshot_preview1', adapter]]);
}
