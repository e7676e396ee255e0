// JSON with positions: a strict JSON parser that remembers where each value starts, so a file a
// developer edits by hand (pkg/manifest.json) can be reported as `file:line:column: what`.
// JSON.parse alone gives a position only for some syntax errors, and none for a value of the
// wrong type.

export type JsonPath = ReadonlyArray<string | number>;

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units (what editors count for the BMP). */
  column: number;
}

export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
  constructor(
    readonly reason: string,
    readonly position: Position,
  ) {
    super(`${position.line}:${position.column}: ${reason}`);
  }
}

export interface LocatedJson {
  value: unknown;
  /** Where the value at `path` starts; the nearest enclosing value's start when `path` is absent. */
  positionOf(path: JsonPath): Position;
}

function positionAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

const key = (path: JsonPath) => JSON.stringify(path);

/** Parse `text` as JSON (RFC 8259, nothing more); throws JsonSyntaxError with line and column. */
export function parseJsonWithPositions(text: string): LocatedJson {
  const starts = new Map<string, number>();
  let i = 0;
  const fail = (reason: string, at = i): never => {
    throw new JsonSyntaxError(reason, positionAt(text, at));
  };
  const describe = (at: number) => (at >= text.length ? 'the end of the file' : `'${text[at]}'`);
  const skipSpace = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };

  const parseString = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail('a string cannot hold a raw control character (a line break inside quotes?): escape it, e.g. \\n');
      i += text[i] === '\\' ? 2 : 1;
    }
    if (i >= text.length) fail('this string is never closed: add the closing "', start);
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('this string has an invalid escape (\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX)', start);
    }
  };

  const parseValue = (path: JsonPath): unknown => {
    skipSpace();
    starts.set(key(path), i);
    const c = text[i];
    if (c === '{') {
      i++;
      const out: Record<string, unknown> = {};
      skipSpace();
      if (text[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        skipSpace();
        if (text[i] !== '"') fail(`expected a property name in double quotes, found ${describe(i)}${text[i] === '}' ? ' (a comma before a closing brace is not allowed in JSON)' : ''}`);
        const name = parseString();
        skipSpace();
        if (text[i] !== ':') fail(`expected ':' after the property name "${name}", found ${describe(i)}`);
        i++;
        out[name] = parseValue([...path, name]);
        skipSpace();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return out;
        }
        fail(`expected ',' or '}' after the value of "${name}", found ${describe(i)}`);
      }
    }
    if (c === '[') {
      i++;
      const out: unknown[] = [];
      skipSpace();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        skipSpace();
        if (text[i] === ']') fail('a comma before a closing bracket is not allowed in JSON');
        out.push(parseValue([...path, out.length]));
        skipSpace();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return out;
        }
        fail(`expected ',' or ']' after a list item, found ${describe(i)}`);
      }
    }
    if (c === '"') return parseString();
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (!literal) return fail(`expected a value (a string in double quotes, a number, true, false, null, {...} or [...]), found ${describe(i)}`);
    i += literal[0].length;
    return JSON.parse(literal[0]);
  };

  const value = parseValue([]);
  skipSpace();
  if (i < text.length) fail(`unexpected ${describe(i)} after the end of the JSON value`);
  return {
    value,
    positionOf(path) {
      for (let n = path.length; n >= 0; n--) {
        const at = starts.get(key(path.slice(0, n)));
        if (at !== undefined) return positionAt(text, at);
      }
      return { line: 1, column: 1 };
    },
  };
}
