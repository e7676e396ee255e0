// Names `kit new` accepts beyond Hypermap-safety: the package name becomes the name of the
// package's WIT interface (`interface <package>`) and starts its world name
// (`<package>-<publisher>-v0`), so both must be WIT identifiers, or the new package would not
// build. A WIT identifier is words joined by single '-', the first starting with a letter, and
// not a WIT keyword.

const WIT_KEYWORDS = new Set(
  (
    'as async borrow bool char constructor enum error-context export f32 f64 flags from func future import include ' +
    'interface list option own package record resource result s8 s16 s32 s64 static stream string tuple type u8 ' +
    'u16 u32 u64 use variant with world'
  ).split(' '),
);

/** Why `name` cannot be the package's WIT interface name, or undefined if it can. */
export function witPackageNameProblem(name: string): string | undefined {
  if (name.split('-').some((word) => word === '')) return "may not start or end with '-' or have '--' (WIT names do not allow it)";
  if (!/^[a-z]/.test(name)) return 'must start with a letter (it names the package’s WIT interface, and WIT names start with a letter)';
  if (WIT_KEYWORDS.has(name)) return 'is a WIT keyword (it would name the package’s WIT interface)';
  return undefined;
}

/** Why `publisher` cannot go into the package's WIT world name, or undefined if it can. */
export function witPublisherProblem(publisher: string): string | undefined {
  if (publisher.split('.').some((part) => part.split('-').some((word) => word === '')))
    return "may not have '-' at the start or end of a part, or '--' (it goes into the package’s WIT world name)";
  return undefined;
}
