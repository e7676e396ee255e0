// Placeholder replacement for `kit new` (interop §4.3): a template is written for package T
// (the template's name) and publisher `template.os`; every path and file is rewritten for the new
// package P and publisher U, in each spelling the name takes: kebab-case (process IDs, WIT names,
// folders), snake_case (identifiers), UpperCamelCase (types) and the publisher's dotted forms
// (`template-dot-os` in WIT world names).
//
// One regex alternation, scanned left to right, earliest-listed alternative first, no re-scan of
// replaced text, as kit does. One deliberate difference: kit rewrites the bare name in .js/.ts
// files to snake_case, which turns process IDs like 'chat:chat:template.os' into non-Hypermap-safe
// 'my_app:my_app:...' (kit's JS templates are disabled for that reason). Here .js/.ts files get the
// same rules as any other text; templates write identifiers in UpperCamelCase or with '_'.

export const TEMPLATE_PUBLISHER = 'template.os';

export interface Naming {
  /** The template's package name, e.g. `chat` or `file-transfer`. */
  template: string;
  /** The new package name. */
  packageName: string;
  /** The new publisher. */
  publisher: string;
}

export function kebab(s: string): string {
  return s.replace(/_/g, '-');
}

export function snake(s: string): string {
  return s.replace(/-/g, '_');
}

export function upperCamel(s: string): string {
  return snake(s)
    .split('_')
    .filter((part) => part.length > 0)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}

/** `foo.os` -> `foo_dot_os`; a publisher without dots stays as it is (snake-cased). */
export function dottedSnake(publisher: string): string {
  return publisher.split('.').map(snake).join('_dot_');
}

/** `foo.os` -> `foo-dot-os`, as in WIT world names. */
export function dottedKebab(publisher: string): string {
  return publisher.split('.').map(kebab).join('-dot-');
}

export function dottedUpperCamel(publisher: string): string {
  return upperCamel(dottedSnake(publisher));
}

/** The WIT world name kit derives for a package's API: `<package>-<publisher dotted kebab>-v<N>`. */
export function worldName(packageName: string, publisher: string, version = 0): string {
  return `${kebab(packageName)}-${dottedKebab(publisher)}-v${version}`;
}

function extensionOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot).toLowerCase();
}

/** The ordered [from, to] pairs for a file with this extension. */
export function replacementPairs(naming: Naming, extension: string): Array<[string, string]> {
  const t = naming.template;
  const p = naming.packageName;
  const u = naming.publisher;
  const pairs: Array<[string, string]> = [
    [`${kebab(t)}-`, `${kebab(p)}-`],
    [`${snake(t)}::`, `${snake(p)}::`],
    [`${kebab(t)}.wasm`, `${kebab(p)}.wasm`],
    [`${kebab(t)}-test.wasm`, `${kebab(p)}-test.wasm`],
    [`${t}_`, `${snake(p)}_`],
    [`_${t}`, `_${snake(p)}`],
    [`${t}: `, `${snake(p)}: `],
    [`${t}-`, `${kebab(p)}-`],
    [`${t}(`, `${snake(p)}(`],
  ];
  if (extension === '.wit') {
    pairs.push([kebab(t), kebab(p)], [t, p]);
  } else {
    pairs.push([t, p], [kebab(t), kebab(p)], [snake(t), snake(p)]);
  }
  pairs.push(
    [upperCamel(t), upperCamel(p)],
    [TEMPLATE_PUBLISHER, u],
    [dottedSnake(TEMPLATE_PUBLISHER), dottedSnake(u)],
    [dottedKebab(TEMPLATE_PUBLISHER), dottedKebab(u)],
    [dottedUpperCamel(TEMPLATE_PUBLISHER), dottedUpperCamel(u)],
  );
  return pairs;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Rewrite `text` (a file's content, or its path) from the template's names to the new ones.
 * `path` is the file's path in the template; its extension picks the rule set.
 */
export function replacePlaceholders(text: string, path: string, naming: Naming): string {
  const pairs = replacementPairs(naming, extensionOf(path));
  // First listed wins when two alternatives are the same string.
  const to = new Map<string, string>();
  for (const [from, replacement] of pairs) if (!to.has(from)) to.set(from, replacement);
  const pattern = new RegExp([...to.keys()].map(escapeRegExp).join('|'), 'g');
  return text.replace(pattern, (match) => to.get(match) ?? match);
}
