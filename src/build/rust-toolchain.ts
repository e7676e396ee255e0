// Which Rust toolchain builds a package's Rust processes. The real kit always runs `cargo +1.85.1`
// (rustup) with the wasm32-wasip1 target. Here any toolchain that has a WebAssembly WASI standard
// library will do: rustc 1.78+ names that target wasm32-wasip1, older ones (Debian 12's rustc 1.63
// with libstd-rust-dev-wasm32) wasm32-wasi. Without --toolchain kit tries, in order: rustup's
// 1.85.1 (the real kit's pin), the `cargo` on PATH, and Debian's /usr/bin/cargo + rustc; the first
// that can build for WASI is used. With --toolchain +X only `cargo +X` (rustup) is used.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ToolchainError } from './errors.js';
import { run } from './exec.js';

export type WasiTarget = 'wasm32-wasip1' | 'wasm32-wasi';

/** The toolchain the real kit pins (kit `build/mod.rs` DEFAULT_RUST_TOOLCHAIN). */
export const REAL_KIT_TOOLCHAIN = '+1.85.1';

export interface RustToolchain {
  /** The cargo program, and the arguments that go before cargo's own (`+1.85.1`). */
  cargo: string;
  cargoPrefix: string[];
  /** Environment cargo runs with (Debian's cargo is pointed at Debian's rustc). */
  env: NodeJS.ProcessEnv;
  target: WasiTarget;
  /** e.g. `rustc 1.63.0 (/usr/bin/rustc)`: for messages and the build key. */
  description: string;
}

interface Candidate {
  cargo: string;
  rustc: string;
  prefix: string[];
  env: NodeJS.ProcessEnv;
  label: string;
}

/** `1.85.1` or `+1.85.1` -> `+1.85.1`. */
export function toolchainArg(toolchain: string): string {
  return toolchain.startsWith('+') ? toolchain : `+${toolchain}`;
}

// rustup must not try to download a toolchain it lacks while kit only asks what is there.
const noAutoInstall = (): NodeJS.ProcessEnv => ({ ...process.env, RUSTUP_AUTO_INSTALL: '0' });

async function rustupHas(toolchain: string): Promise<boolean> {
  const list = await run('rustup', ['toolchain', 'list'], { cwd: process.cwd(), env: noAutoInstall() });
  if (list.code !== 0) return false;
  const name = toolchain.replace(/^\+/, '');
  return list.output.split('\n').some((line) => line === name || line.startsWith(`${name}-`));
}

function candidates(toolchain: string | undefined, rustupPinned: boolean): Candidate[] {
  if (toolchain) {
    const plus = toolchainArg(toolchain);
    return [{ cargo: 'cargo', rustc: 'rustc', prefix: [plus], env: noAutoInstall(), label: `rustup toolchain ${plus.slice(1)}` }];
  }
  const out: Candidate[] = [];
  if (rustupPinned) out.push({ cargo: 'cargo', rustc: 'rustc', prefix: [REAL_KIT_TOOLCHAIN], env: noAutoInstall(), label: `rustup toolchain ${REAL_KIT_TOOLCHAIN.slice(1)}` });
  out.push({ cargo: 'cargo', rustc: 'rustc', prefix: [], env: process.env, label: 'cargo on PATH' });
  if (existsSync('/usr/bin/cargo') && existsSync('/usr/bin/rustc'))
    out.push({ cargo: '/usr/bin/cargo', rustc: '/usr/bin/rustc', prefix: [], env: { ...process.env, RUSTC: '/usr/bin/rustc' }, label: '/usr/bin/cargo' });
  return out;
}

interface Probe {
  candidate: Candidate;
  version?: string;
  target?: WasiTarget;
  problem?: string;
}

async function probe(c: Candidate): Promise<Probe> {
  const cwd = process.cwd();
  const version = await run(c.rustc, [...c.prefix, '--version'], { cwd, env: c.env });
  if (version.missing) return { candidate: c, problem: `${c.rustc} not found` };
  if (version.code !== 0) return { candidate: c, problem: version.output.trim().split('\n')[0] || `${c.rustc} --version failed` };
  const cargo = await run(c.cargo, [...c.prefix, '--version'], { cwd, env: c.env });
  if (cargo.code !== 0) return { candidate: c, version: version.output.trim(), problem: `${c.cargo} not usable: ${cargo.output.trim().split('\n')[0]}` };
  const sysroot = await run(c.rustc, [...c.prefix, '--print', 'sysroot'], { cwd, env: c.env });
  const root = sysroot.output.trim();
  const target = (['wasm32-wasip1', 'wasm32-wasi'] as const).find((t) => sysroot.code === 0 && existsSync(join(root, 'lib', 'rustlib', t)));
  const v = version.output.trim();
  if (!target) return { candidate: c, version: v, problem: 'no wasm32-wasip1 (or wasm32-wasi) standard library installed' };
  return { candidate: c, version: v, target };
}

const INSTALL_HINT =
  'Install the WebAssembly target: `rustup target add wasm32-wasip1` (with --toolchain +X: `rustup target add wasm32-wasip1 --toolchain X`); ' +
  'offline on Debian/Ubuntu, `apt-get install rustc cargo libstd-rust-dev-wasm32 lld` gives /usr/bin/cargo, whose rustc builds crates that need only std for wasm32-wasi.';

/**
 * The toolchain to build with. `skipCheck` (-s): when none is found, use the `cargo` on PATH with
 * wasm32-wasip1 anyway, and let cargo say what is wrong.
 */
export async function findRustToolchain(opts: { processName: string; toolchain?: string; skipCheck?: boolean }): Promise<RustToolchain> {
  const pinned = !opts.toolchain && (await rustupHas(REAL_KIT_TOOLCHAIN));
  const probes: Probe[] = [];
  for (const c of candidates(opts.toolchain, pinned)) {
    const p = await probe(c);
    probes.push(p);
    if (p.target)
      return {
        cargo: c.cargo,
        cargoPrefix: c.prefix,
        env: c.env,
        target: p.target,
        description: `${p.version} (${c.label}, target ${p.target})`,
      };
  }
  if (opts.skipCheck) return { cargo: 'cargo', cargoPrefix: opts.toolchain ? [toolchainArg(opts.toolchain)] : [], env: process.env, target: 'wasm32-wasip1', description: 'cargo on PATH (unchecked)' };
  const tried = probes.map((p) => `  ${p.candidate.label}${p.version ? ` (${p.version})` : ''}: ${p.problem}`).join('\n');
  if (probes.every((p) => !p.version && /not found/.test(p.problem ?? '')))
    throw new ToolchainError(`process ${opts.processName} is written in Rust, but no Rust toolchain is installed.`, `Install Rust (https://rustup.rs), then ${INSTALL_HINT}`);
  if (opts.toolchain && !probes[0].version)
    throw new ToolchainError(
      `process ${opts.processName} is written in Rust, but toolchain ${toolchainArg(opts.toolchain)} is not usable:\n${tried}`,
      `Install it with \`rustup toolchain install ${toolchainArg(opts.toolchain).slice(1)}\` and \`rustup target add wasm32-wasip1 --toolchain ${toolchainArg(opts.toolchain).slice(1)}\`, or leave --toolchain out to use any installed toolchain that can build for WebAssembly.`,
    );
  throw new ToolchainError(`process ${opts.processName} is written in Rust, but no installed Rust toolchain can build for WebAssembly (WASI):\n${tried}`, INSTALL_HINT);
}
