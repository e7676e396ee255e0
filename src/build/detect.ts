// Finding what a package contains: process folders (by their src/lib.* entry) and UI folders.

import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type Language = 'rust' | 'python' | 'typescript' | 'javascript';

export interface ProcessDir {
  /** Folder name, e.g. `chat`. */
  name: string;
  dir: string;
  language: Language;
  /** src/lib.<ext> */
  entry: string;
  /** Output file name inside pkg/, e.g. `chat.wasm` (Rust turns `_` into `-`, as kit does). */
  wasmName: string;
}

// Checked in this order, as kit does for rs/py/js; TypeScript goes before its own compiled JS.
const ENTRIES: Array<[string, Language]> = [
  ['lib.rs', 'rust'],
  ['lib.py', 'python'],
  ['lib.ts', 'typescript'],
  ['lib.js', 'javascript'],
];

const NEVER = new Set(['pkg', 'target', 'api', 'node_modules', 'dist']);

function topLevelDirs(packageDir: string): string[] {
  return readdirSync(packageDir, { withFileTypes: true })
    .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && !e.name.startsWith('.') && !NEVER.has(e.name))
    .map((e) => e.name)
    .sort();
}

export function languageOf(dir: string): { language: Language; entry: string } | undefined {
  for (const [file, language] of ENTRIES) {
    const entry = join(dir, 'src', file);
    if (existsSync(entry)) return { language, entry };
  }
  return undefined;
}

/** Every process folder of the package, whatever include/exclude say. */
export function detectProcesses(packageDir: string): ProcessDir[] {
  const out: ProcessDir[] = [];
  for (const name of topLevelDirs(packageDir)) {
    const dir = join(packageDir, name);
    const lang = languageOf(dir);
    if (!lang) continue;
    const wasmName = `${lang.language === 'rust' ? name.replaceAll('_', '-') : name}.wasm`;
    out.push({ name, dir, language: lang.language, entry: lang.entry, wasmName });
  }
  return out;
}

/** Folders with a package.json that are not processes: web UIs built with `npm run build:copy`. */
export function detectUiDirs(packageDir: string): Array<{ name: string; dir: string }> {
  return topLevelDirs(packageDir)
    .map((name) => ({ name, dir: join(packageDir, name) }))
    .filter(({ dir }) => existsSync(join(dir, 'package.json')) && !languageOf(dir) && !existsSync(join(dir, 'metadata.json')));
}

/**
 * Whether a top-level folder passes `--include`/`--exclude`. A value may be the folder's name or a
 * path to it (relative to the package or to the working directory), so unlike the real kit a
 * relative DIR still matches.
 */
export function makeFilter(packageDir: string, include: string[] = [], exclude: string[] = []): (name: string) => boolean {
  const norm = (v: string) => v.replace(/[\\/]+$/, '');
  const matches = (values: string[], name: string) => {
    const abs = join(packageDir, name);
    return values.some((v) => norm(v) === name || resolve(packageDir, norm(v)) === abs || resolve(norm(v)) === abs);
  };
  return (name) => (include.length === 0 || matches(include, name)) && !matches(exclude, name);
}

/** The --include/--exclude values that name no process or UI folder of the package (a typo builds nothing). */
export function unmatchedFilterValues(packageDir: string, include: string[] = [], exclude: string[] = []): string[] {
  const names = [...detectProcesses(packageDir).map((p) => p.name), ...detectUiDirs(packageDir).map((u) => u.name)];
  return [...include, ...exclude].filter((v) => !names.some((name) => !makeFilter(packageDir, [], [v])(name)));
}
