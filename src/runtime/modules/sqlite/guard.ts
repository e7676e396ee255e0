// What keeps a process's SQL inside its own database file (issue 19, E1). Hyperdrive lets a
// process run `VACUUM INTO '/any/path'` (a write keyword) and `ATTACH '/any/path'` (a read
// keyword, run through Query), so any package can create or overwrite files wherever the node's
// user can write. better-sqlite3 has no authorizer hook, so the statement is read the way SQLite's
// own tokenizer reads it (comments, quoted strings and identifiers, blob literals) and refused
// when it would reach another file. This is sound because a statement never runs alone here:
// better-sqlite3's prepare() takes exactly one statement (anything after it is an error), and
// ATTACH, DETACH, VACUUM and PRAGMA are statements of their own, never parts of another one.
// load_extension() is already refused by SQLite itself (the C API enables only the C entry point).

type Token = { kind: 'word' | 'quoted' | 'other'; text: string };

/** PRAGMAs that act on the whole process (a directory SQLite writes into, heap limits), not one database. */
const PROCESS_WIDE_PRAGMAS = new Set(['temp_store_directory', 'data_store_directory', 'soft_heap_limit', 'hard_heap_limit']);

function isIdStart(c: string): boolean {
  return /[A-Za-z_]/.test(c) || c.charCodeAt(0) >= 0x80;
}

function isIdChar(c: string): boolean {
  return /[A-Za-z0-9_$]/.test(c) || c.charCodeAt(0) >= 0x80;
}

/** The first `max` significant tokens of `sql` (SQLite's tokenizer rules, simplified where only the class matters). */
export function tokens(sql: string, max = 64): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n && out.length < max) {
    const c = sql[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\f' || c === '\r') {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      // a doubled quote is the quote itself
      let j = i + 1;
      for (;;) {
        const k = sql.indexOf(c, j);
        if (k < 0) {
          j = n;
          break;
        }
        if (sql[k + 1] === c) j = k + 2;
        else {
          j = k + 1;
          break;
        }
      }
      out.push({ kind: 'quoted', text: sql.slice(i, j) });
      i = j;
    } else if (c === '[') {
      const k = sql.indexOf(']', i);
      const j = k < 0 ? n : k + 1;
      out.push({ kind: 'quoted', text: sql.slice(i, j) });
      i = j;
    } else if ((c === 'x' || c === 'X') && sql[i + 1] === "'") {
      const k = sql.indexOf("'", i + 2);
      const j = k < 0 ? n : k + 1;
      out.push({ kind: 'other', text: sql.slice(i, j) });
      i = j;
    } else if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdChar(sql[j])) j++;
      out.push({ kind: 'word', text: sql.slice(i, j) });
      i = j;
    } else {
      out.push({ kind: 'other', text: c });
      i++;
    }
  }
  return out;
}

function unquote(t: Token): string {
  if (t.kind !== 'quoted') return t.text.toLowerCase();
  const q = t.text[0];
  const close = q === '[' ? ']' : q;
  const inner = t.text.slice(1, t.text.endsWith(close) && t.text.length > 1 ? -1 : undefined);
  return (q === '[' ? inner : inner.split(q + q).join(q)).toLowerCase();
}

/**
 * Why one SQL statement may not run on a process's database, or undefined. Refused: ATTACH (it
 * opens or creates any file), VACUUM INTO (it writes any file), and the PRAGMAs that change the
 * whole node's SQLite (where temporary files go, heap limits).
 */
export function refusal(sql: string): string | undefined {
  let ts = tokens(sql);
  const word = (t: Token | undefined, w: string) => t?.kind === 'word' && t.text.toUpperCase() === w;
  // EXPLAIN [QUERY PLAN] only compiles what follows; judge what follows anyway.
  if (word(ts[0], 'EXPLAIN')) ts = ts.slice(word(ts[1], 'QUERY') && word(ts[2], 'PLAN') ? 3 : 1);
  const first = ts[0];
  if (word(first, 'ATTACH'))
    return 'ATTACH opens another database file; on this node each database stays in its own file (open another db of your package instead)';
  if (word(first, 'VACUUM') && ts.some((t) => word(t, 'INTO')))
    return 'VACUUM INTO writes a copy to a file outside the database; on this node each database stays in its own file (plain VACUUM is fine)';
  if (word(first, 'PRAGMA')) {
    // PRAGMA [schema.]name ...
    const name = ts[2]?.text === '.' ? ts[3] : ts[1];
    if (name && PROCESS_WIDE_PRAGMAS.has(unquote(name))) return `PRAGMA ${unquote(name)} changes SQLite for the whole node, not one database`;
  }
  return undefined;
}
