// Shared by the template tests: generate every template in every language into a temp folder.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPackage, type Language, TEMPLATES, type TemplateName } from '../../src/templates/index.js';

/** The repository root (tests run from dist/test/templates). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const TEMPLATES_ROOT = join(ROOT, 'templates');
export const LANGS: Array<{ language: Language; ext: string }> = [
  { language: 'typescript', ext: 'ts' },
  { language: 'javascript', ext: 'js' },
];
export const PACKAGE = 'my-app';
export const PUBLISHER = 'foo.os';

const made: string[] = [];

/** A fresh temporary folder, removed by cleanup(). */
export function tempDir(prefix = 'kit-new-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Remove every folder tempDir() made (call it from an `after` hook). */
export function cleanup(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface Generated {
  template: TemplateName;
  language: Language;
  ext: string;
  dir: string;
  files: string[];
}

/** Each template in each language, as `kit new <tmp>/<lang>-<template> -a my-app -u foo.os -t <template>`. */
export async function generateAll(): Promise<Generated[]> {
  const base = tempDir();
  const out: Generated[] = [];
  for (const { language, ext } of LANGS)
    for (const template of TEMPLATES) {
      const dir = join(base, `${language}-${template}`);
      const made = await createPackage({ dir, packageName: PACKAGE, publisher: PUBLISHER, language, template, templatesRoot: TEMPLATES_ROOT });
      out.push({ template, language, ext, dir, files: made.files });
    }
  return out;
}

/** Top-level folders with src/lib.<ext>, as kit build finds processes; `under` for test packages. */
export function processDirs(dir: string, ext: string): string[] {
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory() && existsSync(join(dir, name, 'src', `lib.${ext}`)))
    .sort();
}

export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
