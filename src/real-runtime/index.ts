// A real Hyperdrive instead of kit's embedded runtime: `--runtime-path` names either a Hyperdrive
// repo (built here with cargo, as the real kit does) or a runtime binary (run as is). kit passes
// the binary the same flags the real kit passes (interop §5.2 step 5 and §9.7), so a package can
// be checked on both runtimes. This build ships no Hyperdrive binary and downloads none.

import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run, tail } from '../build/exec.js';
import { cargoToolHint } from '../build/rust.js';
import { KitError } from '../cli/errors.js';

export interface PrepareRealRuntimeOptions {
  /** A Hyperdrive repo (has Cargo.toml) or a runtime binary. */
  runtimePath: string;
  /** Repo only: `cargo build --release` (default: debug). */
  release?: boolean;
  /** Repo only: build with `--features simulation-mode` (what fake nodes and run-tests need). */
  simulation?: boolean;
  /** Show cargo's output as it runs (it is captured for errors either way). */
  verbose?: boolean;
  /** Told before each cargo step, e.g. to print it. */
  onStep?: (command: string) => void;
  /** How errors name the path: `--runtime-path` (default) or tests.toml's `RepoPath`. */
  label?: string;
}

export interface RealRuntime {
  /** Absolute path of the runtime binary to run. */
  binary: string;
  /** True when kit built it from a repo just now. */
  built: boolean;
}

/** What this build cannot do without --runtime-path, said plainly (boot-real-node prints it). */
export const NO_REAL_RUNTIME_MESSAGE =
  'this kit has no Hyperdrive binary of its own and does not download one: its embedded runtime is a fake node for development (local fake chain only: no live network, no Base (chain 8453) Hypermap, no login with a real node name)';

export const NO_REAL_RUNTIME_HINT =
  'to run a node on the live network, build Hyperdrive (https://github.com/hyperware-ai/hyperdrive) and pass the repo or the binary with --runtime-path, e.g. `kit boot-real-node --home ~/my-node.os --runtime-path ~/git/hyperdrive`';

/**
 * The runtime binary for `runtimePath`: a binary is checked and used as is; a repo is built with
 * cargo (`cargo run -p build-packages`, then `cargo build -p hyperdrive`).
 */
export async function prepareRealRuntime(opts: PrepareRealRuntimeOptions): Promise<RealRuntime> {
  const path = resolve(opts.runtimePath);
  const label = opts.label ?? '--runtime-path';
  if (!existsSync(path)) {
    throw new KitError(`${label} ${opts.runtimePath} does not exist`, {
      hint: 'pass a Hyperdrive repo (a folder with Cargo.toml) or a Hyperdrive binary',
    });
  }
  if (statSync(path).isFile()) {
    try {
      accessSync(path, constants.X_OK);
    } catch {
      throw new KitError(`${label} ${opts.runtimePath} is a file but not executable`, { hint: `make it executable: chmod +x ${path}` });
    }
    return { binary: path, built: false };
  }
  if (!existsSync(join(path, 'Cargo.toml'))) {
    throw new KitError(`${label} ${opts.runtimePath} is neither a Hyperdrive binary nor a Hyperdrive repo (no Cargo.toml in it)`, {
      hint: 'pass the root of a hyperdrive checkout (git clone https://github.com/hyperware-ai/hyperdrive) or its built binary',
    });
  }
  const features = opts.simulation ? ['--features', 'simulation-mode'] : [];
  const packagesZip = opts.simulation ? 'target/packages-simulation-mode.zip' : 'target/packages.zip';
  const env = { ...process.env, PATH_TO_PACKAGES_ZIP: packagesZip };
  const steps: string[][] = [
    ['run', '-p', 'build-packages', ...(opts.simulation ? ['--', ...features] : [])],
    ['build', '-p', 'hyperdrive', ...(opts.release ? ['--release'] : []), ...features],
  ];
  for (const args of steps) {
    opts.onStep?.(`cargo ${args.join(' ')}`);
    const r = await run('cargo', args, { cwd: path, env, verbose: opts.verbose });
    if (r.missing) {
      throw new KitError(`cargo not found: building Hyperdrive from ${label} needs Rust`, {
        hint: `install Rust with https://rustup.rs (then \`kit setup\` checks the rest), or give ${label} a built binary`,
      });
    }
    if (r.code !== 0) {
      throw new KitError(`\`cargo ${args.join(' ')}\` failed in ${path} (exit ${r.code})`, {
        details: tail(r.output, 40),
        hint: cargoToolHint(r.output) ?? `fix the build error above (or build Hyperdrive yourself and give ${label} the binary)`,
      });
    }
  }
  const binary = join(path, 'target', opts.release ? 'release' : 'debug', 'hyperdrive');
  if (!existsSync(binary)) {
    throw new KitError(`cargo finished but ${binary} was not built`, { hint: `is ${label} the root of the hyperdrive repo?` });
  }
  return { binary, built: true };
}

export interface RealNodeArgs {
  home: string;
  port: number;
  verbosity: number;
  rpc?: string;
  /** Extra arguments for Hyperdrive (after `--` on kit's command line). */
  extra?: string[];
}

/** argv of a real node: `<home> --port P --verbosity V --expose-local [ARGS] [--rpc URL]`. */
export function realNodeArgs(a: RealNodeArgs): string[] {
  return [a.home, '--port', String(a.port), '--verbosity', String(a.verbosity), '--expose-local', ...(a.extra ?? []), ...(a.rpc ? ['--rpc', a.rpc] : [])];
}

/** argv of a fake node: the real node's, then `[--password PW] --fake-node-name NAME --fakechain-port P`. */
export function fakeNodeArgs(a: RealNodeArgs & { password?: string; name: string; fakechainPort: number }): string[] {
  const password = a.password === undefined ? [] : ['--password', a.password];
  return [...realNodeArgs(a), ...password, '--fake-node-name', a.name, '--fakechain-port', String(a.fakechainPort)];
}

/**
 * Run the runtime in the foreground with the terminal (the user types into the node's terminal).
 * SIGINT/SIGTERM to kit go to the node; resolves with its exit status once it exits.
 */
export function runRuntime(binary: string, args: string[], opts: { cwd?: string } = {}): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, args, { stdio: 'inherit', cwd: opts.cwd });
    const forward = (signal: NodeJS.Signals) => {
      if (child.exitCode === null) child.kill(signal);
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, forward);
    const done = () => {
      for (const s of signals) process.off(s, forward);
    };
    child.once('error', (e) => {
      done();
      reject(new KitError(`could not start ${binary}: ${e.message}`));
    });
    child.once('exit', (code, signal) => {
      done();
      resolvePromise(code ?? (signal ? 128 + (signalNumber(signal) ?? 0) : 1));
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal];
}

/**
 * The node's arguments: the words after `--` as they were typed, each split on whitespace (so
 * `-- "--ws-port 9001"` works as the real kit's single ARGS string does). Taken from the raw
 * command line: oclif's non-strict argv reorders them (`-- --ws-port 0` came back as
 * `["0", "--ws-port"]`). Without a `--`, oclif's leftover words.
 */
export function splitExtraArgs(rawArgv: readonly string[], leftover: readonly string[]): string[] {
  const dash = rawArgv.indexOf('--');
  const words = dash >= 0 ? rawArgv.slice(dash + 1) : leftover;
  return words.flatMap((w) => w.split(/\s+/)).filter((w) => w !== '');
}
