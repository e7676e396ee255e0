// `kit setup`: checks every tool kit uses, says what is present and what is missing with the
// command that installs it, and installs what it safely can (in the user's own toolchains:
// the Rust wasm target, componentize-py, Rust itself through rustup) when asked.
// Required: Node.js + npm (-j makes npm optional) and anvil (-f), which every package needs. Rust
// with a WebAssembly target and Python + componentize-py are required only for a package that has
// Rust or Python processes (the package in the working folder, or Rust when --toolchain is given):
// TypeScript and JavaScript need neither. The real kit requires them all, and Docker, unless -p/-d;
// this kit never uses Docker, so it is reported and never required. Chromium is for UI tests only.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { detectProcesses } from '../build/detect.js';
import { findRustToolchain } from '../build/rust-toolchain.js';

export interface SetupOptions {
  dockerOptional?: boolean;
  pythonOptional?: boolean;
  foundryOptional?: boolean;
  javascriptOptional?: boolean;
  /** A rustup toolchain such as `+1.85.1`; default: the toolchain `cargo` runs (what `kit build` uses). */
  toolchain?: string;
  /** The languages the package at hand needs beyond TypeScript/JavaScript (see `neededLanguages`). */
  needs?: { rust?: boolean; python?: boolean };
}

/** What the package in `dir` needs: Rust or Python processes; nothing outside a package. */
export function neededLanguages(dir: string, toolchain?: string): { rust: boolean; python: boolean } {
  const languages = existsSync(join(dir, 'metadata.json')) ? new Set(detectProcesses(dir).map((p) => p.language)) : new Set<string>();
  return { rust: languages.has('rust') || toolchain !== undefined, python: languages.has('python') };
}

export interface Check {
  name: string;
  /** What kit uses it for. */
  purpose: string;
  required: boolean;
  present: boolean;
  /** Version or where it was found; why it is not good enough when `present` is false. */
  detail: string;
  /** The command (or page) that installs it, shown when it is missing. */
  install: string;
  /** A shell command kit may run itself to install it (with the user's consent). */
  autoInstall?: string;
}

interface Probe {
  ok: boolean;
  out: string;
}

async function probe(cmd: string, args: string[]): Promise<Probe> {
  const r = await execa(cmd, args, { reject: false, timeout: 15_000, stdin: 'ignore' });
  const out = `${String(r.stdout ?? '')}\n${String(r.stderr ?? '')}`.trim();
  return { ok: r.exitCode === 0, out };
}

function firstLine(s: string): string {
  return s.split('\n')[0]?.trim() ?? '';
}

/** [major, minor, patch] from the first x.y(.z) in a version string. */
export function parseVersion(s: string): [number, number, number] | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(s);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

export function atLeast(v: [number, number, number] | undefined, min: [number, number]): boolean {
  if (!v) return false;
  return v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);
}

/** Chromium for UI tests: $CHROME_PATH / $KIT_CHROMIUM, else the usual names on PATH. */
async function findChromium(): Promise<string | undefined> {
  for (const env of ['KIT_CHROMIUM', 'CHROME_PATH']) {
    const p = process.env[env];
    if (p && existsSync(p)) return p;
  }
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
    const r = await execa('which', [name], { reject: false });
    if (r.exitCode === 0 && String(r.stdout).trim()) return String(r.stdout).trim();
  }
  if (process.platform === 'darwin') {
    for (const app of ['/Applications/Chromium.app/Contents/MacOS/Chromium', '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome']) {
      if (existsSync(app)) return app;
    }
  }
  return undefined;
}

/** Every check, in the order they are printed. */
export async function runChecks(opts: SetupOptions = {}): Promise<Check[]> {
  const tc = opts.toolchain ? [opts.toolchain] : [];
  const tcText = opts.toolchain ? ` ${opts.toolchain}` : '';
  const checks: Check[] = [];

  const nodeVersion = parseVersion(process.versions.node);
  checks.push({
    name: 'Node.js',
    purpose: 'runs kit',
    required: true,
    present: atLeast(nodeVersion, [20, 0]),
    detail: atLeast(nodeVersion, [20, 0]) ? `v${process.versions.node}` : `v${process.versions.node} is too old: kit needs >= 20`,
    install: 'nvm install 20 (https://github.com/nvm-sh/nvm), or https://nodejs.org',
  });

  const npm = await probe('npm', ['--version']);
  const npmOk = npm.ok && atLeast(parseVersion(npm.out), [9, 0]);
  checks.push({
    name: 'npm',
    purpose: 'package UIs, kit update',
    required: !opts.javascriptOptional,
    present: npmOk,
    detail: npm.ok ? (npmOk ? firstLine(npm.out) : `${firstLine(npm.out)} is too old: kit needs >= 9`) : 'not found',
    install: 'npm install -g npm@latest (npm comes with Node.js)',
  });

  const { anvilBinary } = await import('../chain/anvil.js');
  let anvil: Probe = { ok: false, out: 'not found' };
  let anvilPath = '';
  try {
    anvilPath = anvilBinary();
    anvil = await probe(anvilPath, ['--version']);
  } catch (e) {
    anvil = { ok: false, out: (e as Error).message };
  }
  checks.push({
    name: 'anvil',
    purpose: 'the fake chain (kit chain, boot-fake-node)',
    required: !opts.foundryOptional,
    present: anvil.ok,
    detail: anvil.ok ? `${firstLine(anvil.out)} (${anvilPath})` : firstLine(anvil.out) || 'does not run',
    install: 'npm install in kit’s folder (anvil ships in @foundry-rs/anvil), or set KIT_ANVIL to an anvil binary',
  });

  const chromium = await findChromium();
  checks.push({
    name: 'Chromium',
    purpose: 'UI tests',
    required: false,
    present: chromium !== undefined,
    detail: chromium ?? 'not found (set KIT_CHROMIUM to its path if it is elsewhere)',
    install: process.platform === 'darwin' ? 'brew install --cask chromium' : 'apt-get install chromium',
  });

  // The same search kit build makes (rustup's 1.85.1, cargo on PATH, Debian's /usr/bin/cargo):
  // any toolchain it would build with passes, whichever cargo is first on PATH.
  const needsRust = opts.needs?.rust === true;
  const needsPython = opts.needs?.python === true;
  const found = await findRustToolchain({ processName: '', toolchain: opts.toolchain }).catch(() => undefined);
  const cargo = found ? { ok: true, out: found.description } : await probe('cargo', [...tc, '--version']);
  const rustupScript = "curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y";
  checks.push({
    name: 'cargo',
    purpose: 'Rust processes',
    required: needsRust,
    present: cargo.ok,
    detail: cargo.ok ? firstLine(cargo.out) : opts.toolchain ? `toolchain ${opts.toolchain} not usable: ${firstLine(cargo.out)}` : 'not found',
    install: opts.toolchain ? `rustup toolchain install ${opts.toolchain.replace(/^\+/, '')}` : rustupScript,
    autoInstall: opts.toolchain ? `rustup toolchain install ${opts.toolchain.replace(/^\+/, '')}` : rustupScript,
  });

  const sysroot = found ? undefined : await probe('rustc', [...tc, '--print', 'sysroot']);
  const target = found !== undefined || (sysroot?.ok === true && existsSync(join(firstLine(sysroot.out), 'lib', 'rustlib', 'wasm32-wasip1')));
  checks.push({
    name: 'wasm32-wasip1',
    purpose: 'the Rust target processes compile to',
    required: needsRust,
    present: target,
    detail: found ? `${found.target} for ${found.description.replace(/ \(.*$/, '')}` : target ? `installed for ${firstLine(sysroot?.out ?? '')}` : sysroot?.ok ? `not installed for rustc${tcText}` : 'rustc not found',
    install: `rustup${tcText} target add wasm32-wasip1`,
    autoInstall: `rustup${tcText} target add wasm32-wasip1`,
  });

  const python = await probe('python3', ['--version']);
  const pythonOk = python.ok && atLeast(parseVersion(python.out), [3, 10]);
  checks.push({
    name: 'Python',
    purpose: 'Python processes',
    required: needsPython && !opts.pythonOptional,
    present: pythonOk,
    detail: python.ok ? (pythonOk ? firstLine(python.out) : `${firstLine(python.out)} is too old: kit needs >= 3.10`) : 'python3 not found',
    install: process.platform === 'darwin' ? 'brew install python@3.12' : 'apt-get install python3 python3-venv',
  });

  const cpy = await probe('componentize-py', ['--version']);
  checks.push({
    name: 'componentize-py',
    purpose: 'Python processes',
    required: needsPython && !opts.pythonOptional,
    present: cpy.ok,
    detail: cpy.ok ? firstLine(cpy.out) : 'not found',
    install: 'python3 -m pip install --user componentize-py==0.11.0',
    autoInstall: pythonOk ? 'python3 -m pip install --user componentize-py==0.11.0' : undefined,
  });

  // The client alone cannot build: `docker info` tells whether an engine answers.
  const docker = await probe('docker', ['--version']);
  const engine = docker.ok ? await probe('docker', ['info', '--format', '{{.ServerVersion}}']) : { ok: false, out: '' };
  checks.push({
    name: 'Docker',
    purpose: 'not used by this kit (the real kit builds -r in it)',
    required: false,
    present: docker.ok && engine.ok,
    detail: !docker.ok ? 'not found' : engine.ok ? `${firstLine(docker.out)}, engine ${firstLine(engine.out)}` : `${firstLine(docker.out)}, but no Docker engine answers (docker info failed)`,
    install: 'https://docs.docker.com/engine/install/',
  });

  return checks;
}

/** The lines `kit setup` prints for the checks. */
export function formatChecks(checks: Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines: string[] = [];
  for (const c of checks) {
    const state = c.present ? 'ok' : c.required ? 'MISSING' : 'missing (optional)';
    lines.push(`  ${c.name.padEnd(width)}  ${state.padEnd(18)}  ${c.detail}  [${c.purpose}]`);
    if (!c.present) lines.push(`  ${''.padEnd(width)}  install: ${c.install}`);
  }
  return lines.join('\n');
}

export function missingRequired(checks: Check[]): Check[] {
  return checks.filter((c) => c.required && !c.present);
}

/** Run one install command in a shell, its output going to the terminal; true when it succeeded. */
export async function runInstall(command: string): Promise<boolean> {
  const r = await execa(command, { shell: true, stdio: 'inherit', reject: false });
  return r.exitCode === 0;
}
