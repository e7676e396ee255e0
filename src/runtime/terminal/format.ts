// Text the node's terminal shows, formatted as Hyperdrive's terminal and scripts do.

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** `<Weekday> HH:MM ` in local time, the prefix of every printout. */
export function timestamp(now: Date): string {
  const hh = String(now.getHours()).padStart(2, '0');
  const mm = String(now.getMinutes()).padStart(2, '0');
  return `${WEEKDAYS[now.getDay()]} ${hh}:${mm} `;
}

/** Colour by verbosity, as the real terminal: 0 default, 1 green, 2 magenta, 3+ red. */
export function colourFor(verbosity: number): string {
  if (verbosity <= 0) return '';
  if (verbosity === 1) return '\x1b[32m';
  if (verbosity === 2) return '\x1b[35m';
  return '\x1b[31m';
}

/**
 * A printout as lines: the first carries the timestamp, the rest follow as they are (the real
 * terminal prints `content.lines()` after a single timestamp).
 */
export function formatPrintout(text: string, now: Date, colour: string): string {
  const lines = text.split(/\r?\n/);
  const reset = colour ? '\x1b[0m' : '';
  return `${timestamp(now)}${lines.map((l) => `${colour}${l}${reset}\n`).join('')}`;
}

/** `m`'s tokenizer: `'[^']*'|\S+`, single-quoted groups keep their spaces and lose their quotes. */
export function tokenize(args: string): string[] {
  const out: string[] = [];
  for (const m of args.matchAll(/'[^']*'|\S+/g)) {
    const t = m[0];
    out.push(t.length >= 2 && t.startsWith("'") && t.endsWith("'") ? t.slice(1, -1) : t);
  }
  return out;
}

export interface MArgs {
  target: string;
  body: string;
  awaitSecs?: number;
}

/** Parse `m`'s arguments clap-style: two positionals and `-a/--await <secs>` anywhere. */
export function parseMArgs(tokens: string[]): MArgs | string {
  const positional: string[] = [];
  let awaitSecs: number | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    let value: string | undefined;
    if (t === '-a' || t === '--await') {
      value = tokens[++i];
      if (value === undefined) return `${t} needs a number of seconds`;
    } else if (t.startsWith('--await=')) {
      value = t.slice('--await='.length);
    } else if (/^-a\d+$/.test(t)) {
      value = t.slice(2);
    } else if (t.startsWith('-') && t.length > 1 && !/^-\d/.test(t)) {
      return `unexpected argument '${t}'`;
    } else {
      positional.push(t);
      continue;
    }
    if (!/^\d+$/.test(value)) return `invalid value '${value}' for --await: expected whole seconds`;
    awaitSecs = Number(value);
  }
  if (positional.length < 1) return 'no target given';
  if (positional.length < 2) return 'no body given';
  if (positional.length > 2) return `unexpected argument '${positional[2]}' (quote a body with spaces in single quotes)`;
  return { target: positional[0], body: positional[1], awaitSecs };
}

/** What `{"Debug":"ProcessMap"}` answers per process (kernel JSON, interop §10.4). */
export interface ProcessInfo {
  wasm_bytes_handle: string;
  wit_version: number | null;
  on_exit: unknown;
  capabilities: Array<{ issuer: string; params: string }>;
  public: boolean;
}

function onExitText(o: unknown): string {
  if (o === 'None' || o === 'Restart') return o;
  if (o && typeof o === 'object' && Array.isArray((o as { Requests?: unknown[] }).Requests))
    return `Requests(${(o as { Requests: unknown[] }).Requests.length} requests)`;
  return JSON.stringify(o);
}

/** One process as `top` shows it. */
export function formatProcess(id: string, p: ProcessInfo, showCaps: boolean): string {
  const caps = showCaps
    ? p.capabilities.map((c) => `\n        ${c.issuer}(${c.params})`).join('')
    : `\n        ${p.capabilities.length}, use -c to display`;
  return [
    `${id}:`,
    `    ${p.wasm_bytes_handle ? p.wasm_bytes_handle : '(runtime)'}`,
    `    wit: ${p.wit_version ?? 0}`,
    `    on-exit: ${onExitText(p.on_exit)}`,
    `    public: ${p.public}`,
    `    capabilities:${caps}`,
  ].join('\n');
}
