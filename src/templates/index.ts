// `kit new`: write a template package into a new folder, renamed for the package and publisher.
// Templates live in <kit>/templates: `common/<template>/` holds the language-independent files
// (metadata, manifests, WIT API, tests.toml), `<language>/_shared/` what every package in that
// language gets (tsconfig.json or jsconfig.json, package.json) and `<language>/<template>/` the
// process sources.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KitError } from '../cli/errors.js';
import { isSafeName, safeNameRule } from '../core/types.js';
import { linkKitForEditors } from './editor.js';
import { witPackageNameProblem, witPublisherProblem } from './names.js';
import { type Naming, replacePlaceholders, TEMPLATE_PUBLISHER } from './placeholders.js';

export { type Naming, replacePlaceholders, TEMPLATE_PUBLISHER, worldName } from './placeholders.js';

export const TEMPLATES = ['blank', 'chat', 'echo', 'fibonacci', 'file-transfer'] as const;
export type TemplateName = (typeof TEMPLATES)[number];

/** Templates with a web UI version (`--ui`): the template's files, then templates/ui/{common,<language>}/<template>. */
export const UI_TEMPLATES: readonly TemplateName[] = ['chat'];

export const LANGUAGES = ['typescript', 'javascript', 'rust', 'python'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Languages this build has templates for. */
export const AVAILABLE_LANGUAGES: readonly Language[] = ['typescript', 'javascript'];

export const DEFAULT_TEMPLATE: TemplateName = 'chat';
export const DEFAULT_LANGUAGE: Language = 'typescript';

/** A `kit new` request that cannot be done; the message says why and what to do. */
export class NewPackageError extends KitError {
  override name = 'NewPackageError';
}

export interface NewPackageOptions {
  /** Folder to create; must not exist yet. */
  dir: string;
  /** Package name; default: the folder's name. */
  packageName?: string;
  /** Default `template.os`. */
  publisher?: string;
  /** Default typescript. */
  language?: string;
  /** Default chat. */
  template?: string;
  ui?: boolean;
  /** Where the templates are; default the `templates/` folder of this kit. */
  templatesRoot?: string;
}

export interface NewPackageResult {
  dir: string;
  packageName: string;
  publisher: string;
  language: Language;
  template: TemplateName;
  /** Paths written, relative to `dir`, sorted. */
  files: string[];
}

/** The `templates/` folder shipped with kit (next to `dist/`). */
export function defaultTemplatesRoot(): string {
  // This file is dist/src/templates/index.js; templates/ is at the package root.
  return fileURLToPath(new URL('../../../templates/', import.meta.url));
}

const MISSING_TOOLCHAIN: Record<'rust' | 'python', string> = {
  rust: 'Rust templates need the Rust toolchain with the wasm32-wasip1 target and wasm-tools, and are not part of this build yet',
  python: 'Python templates need Python 3.10+ and componentize-py, and are not part of this build yet',
};

/** Check the options and fill in defaults; throws NewPackageError naming what is wrong. */
export function resolveOptions(options: NewPackageOptions): Omit<NewPackageResult, 'files'> {
  const language = (options.language ?? DEFAULT_LANGUAGE).toLowerCase();
  if (!(LANGUAGES as readonly string[]).includes(language))
    throw new NewPackageError(`unknown language '${language}': choose one of ${AVAILABLE_LANGUAGES.join(', ')}`);
  if (language === 'rust' || language === 'python')
    throw new NewPackageError(
      `--language ${language}: ${MISSING_TOOLCHAIN[language]}. Use --language typescript or --language javascript.`,
    );
  const template = options.template ?? DEFAULT_TEMPLATE;
  if (!(TEMPLATES as readonly string[]).includes(template))
    throw new NewPackageError(`unknown template '${template}': choose one of ${TEMPLATES.join(', ')}`);
  if (options.ui && !UI_TEMPLATES.includes(template as TemplateName))
    throw new NewPackageError(`--ui: only the ${UI_TEMPLATES.join(', ')} template has a UI version; create '${template}' without --ui`);
  if (options.ui && language !== 'typescript')
    throw new NewPackageError(`--ui: the chat UI template is written for TypeScript processes only so far; use --language typescript (the default)`);

  const dir = resolve(options.dir);
  const fromDir = options.packageName === undefined;
  const packageName = options.packageName ?? basename(dir);
  const where = fromDir ? ` (taken from the folder name; pass --package to choose another)` : '';
  if (!isSafeName(packageName))
    throw new NewPackageError(`package name '${packageName}'${where} may only contain ${safeNameRule(false)}`);
  if (packageName === 'api' || packageName === 'test')
    throw new NewPackageError(`package name '${packageName}'${where} is reserved: kit uses api/ and test/ inside a package`);
  const witProblem = witPackageNameProblem(packageName);
  if (witProblem) throw new NewPackageError(`package name '${packageName}'${where} ${witProblem}`, { hint: 'choose a name like my-app or app2' });
  const publisher = options.publisher ?? TEMPLATE_PUBLISHER;
  if (!isSafeName(publisher, true))
    throw new NewPackageError(`publisher '${publisher}' may only contain ${safeNameRule(true)}`);
  if (publisher.startsWith('.') || publisher.endsWith('.') || publisher.includes('..'))
    throw new NewPackageError(`publisher '${publisher}' must be a node name like 'template.os' (no empty parts between dots)`);
  const publisherProblem = witPublisherProblem(publisher);
  if (publisherProblem) throw new NewPackageError(`publisher '${publisher}' ${publisherProblem}`, { hint: "choose a node name like 'my-name.os'" });
  return { dir, packageName, publisher, language: language as Language, template: template as TemplateName };
}

function walk(root: string, prefix = ''): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    const rel = prefix ? `${prefix}/${name}` : name;
    if (statSync(join(root, name)).isDirectory()) out.push(...walk(join(root, name), rel));
    else out.push(rel);
  }
  return out;
}

/** The files every template of a language gets, under templates/<language>/. */
const SHARED_LAYER = '_shared';

/** npm drops files named .gitignore from packages, so templates store it as `gitignore`. */
function outputName(rel: string): string {
  return rel === 'gitignore' ? '.gitignore' : rel;
}

/**
 * The files of a template for a language, renamed: a map from output path (relative to the
 * package folder) to content. Language files override common files with the same path.
 */
export function renderTemplate(
  templatesRoot: string,
  language: Language,
  template: TemplateName,
  naming: Omit<Naming, 'template'>,
  ui = false,
): Map<string, string> {
  const sources = new Map<string, string>();
  // <language>/_shared: what every package of the language gets (tsconfig.json, package.json).
  const layers = [join(templatesRoot, 'common', template), join(templatesRoot, language, SHARED_LAYER), join(templatesRoot, language, template)];
  if (ui) layers.push(join(templatesRoot, 'ui', 'common', template), join(templatesRoot, 'ui', language, template));
  for (const layer of layers)
    for (const rel of walk(layer)) sources.set(rel, join(layer, rel));
  if (sources.size === 0)
    throw new NewPackageError(`no ${language} files for template '${template}' under ${templatesRoot}; is kit installed completely?`);
  const full: Naming = { template, ...naming };
  const out = new Map<string, string>();
  for (const rel of [...sources.keys()].sort()) {
    const content = readFileSync(sources.get(rel)!, 'utf8');
    out.set(replacePlaceholders(outputName(rel), rel, full), replacePlaceholders(content, rel, full));
  }
  return out;
}

/** `kit new`: create the package folder. Throws NewPackageError for bad input. */
export async function createPackage(options: NewPackageOptions): Promise<NewPackageResult> {
  const resolved = resolveOptions(options);
  if (existsSync(resolved.dir))
    throw new NewPackageError(`${resolved.dir} already exists: choose a new folder, or remove that one first`);
  const files = renderTemplate(options.templatesRoot ?? defaultTemplatesRoot(), resolved.language, resolved.template, {
    packageName: resolved.packageName,
    publisher: resolved.publisher,
  }, options.ui === true);
  for (const [rel, content] of files) {
    const target = join(resolved.dir, rel);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content, { flag: 'wx' });
  }
  linkKitForEditors(resolved.dir);
  return { ...resolved, files: [...files.keys()].sort() };
}
