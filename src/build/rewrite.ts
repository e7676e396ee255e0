// `--rewrite`: the real kit copies the package to target/rewrite, turns each `Spawn!(…)` in its
// Rust sources into a generated child process crate (parsing Rust with syn), and builds the copy
// (kit `build/rewrite.rs`). This kit does not parse Rust, so it refuses the flag where a Rust
// process uses `Spawn!()`. Where none does, the real rewrite changes nothing and the package is
// built as it is.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessDir } from './detect.js';
import { FlagError } from './errors.js';

function rustSources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...rustSources(path));
    else if (e.name.endsWith('.rs')) out.push(path);
  }
  return out;
}

/** Where `Spawn!(` is called in the Rust processes' sources, as `file:line`. */
export function spawnCalls(processes: ProcessDir[]): string[] {
  const out: string[] = [];
  for (const proc of processes.filter((p) => p.language === 'rust')) {
    for (const file of rustSources(join(proc.dir, 'src'))) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/\bSpawn!\s*\(/.test(line.replace(/\/\/.*$/, ''))) out.push(`${file}:${i + 1}`);
        });
    }
  }
  return out;
}

export function refuseRewrite(processes: ProcessDir[]): void {
  const calls = spawnCalls(processes);
  if (calls.length === 0) return;
  throw new FlagError(
    `--rewrite: this kit cannot rewrite \`Spawn!()\` (it would turn each call into a generated child process, as the real kit does with a Rust parser). Found in:\n${calls.map((c) => `  ${c}`).join('\n')}`,
    'Build this package with the real kit (`kit build --rewrite`), or replace Spawn!() with a child process of your own started with spawn().',
  );
}
