// Logging as the book describes for kit: lines to the terminal and JSON lines to a log file,
// `/tmp/hyperdrive-kit-cache/logs/log.log` unless KIT_LOG_PATH says otherwise; the level comes
// from KIT_LOG or RUST_LOG (debug, info, warning, error; default info).

import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { KIT_CACHE } from './cache.js';
import { writeLine } from './prompt-line.js';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warning: 2, error: 3 };

export function logPath(): string {
  return process.env.KIT_LOG_PATH ?? `${KIT_CACHE}/logs/log.log`;
}

export function levelFromEnv(): LogLevel {
  const raw = (process.env.KIT_LOG ?? process.env.RUST_LOG ?? 'info').toLowerCase();
  if (raw === 'warn') return 'warning';
  return raw in RANK ? (raw as LogLevel) : 'info';
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warning(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(target: string): Logger;
}

export interface LoggerOptions {
  target?: string;
  level?: LogLevel;
  /** Where terminal lines go; default: info/warning to stdout, error to stderr. `null` for none. */
  terminal?: ((level: LogLevel, line: string) => void) | null;
  /** Log file path; `null` for none. */
  file?: string | null;
}

function defaultTerminal(level: LogLevel, line: string): void {
  writeLine(level === 'error' ? process.stderr : process.stdout, line);
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? levelFromEnv();
  const terminal = opts.terminal === undefined ? defaultTerminal : opts.terminal;
  const file = opts.file === undefined ? logPath() : opts.file;
  let fileReady = false;
  let fileBroken = false;

  const append = (line: string) => {
    if (!fileReady) {
      mkdirSync(dirname(file as string), { recursive: true });
      fileReady = true;
    }
    appendFileSync(file as string, line);
  };
  const write = (target: string, lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (file && !fileBroken) {
      const rec = { timestamp: new Date().toISOString(), level: lvl.toUpperCase(), target, message: msg, ...fields };
      const line = `${JSON.stringify(rec, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`;
      try {
        append(line);
      } catch (e) {
        // The folder can vanish under a long-running node (`kit reset-cache`): make it again once.
        fileReady = false;
        try {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          append(line);
        } catch {
          fileBroken = true; // a log file we cannot write must never stop the tool
        }
      }
    }
    if (terminal && RANK[lvl] >= RANK[level]) terminal(lvl, lvl === 'debug' ? `[debug] ${msg}` : msg);
  };

  const make = (target: string): Logger => ({
    debug: (m, f) => write(target, 'debug', m, f),
    info: (m, f) => write(target, 'info', m, f),
    warning: (m, f) => write(target, 'warning', m, f),
    error: (m, f) => write(target, 'error', m, f),
    child: (t) => make(`${target}::${t}`),
  });
  return make(opts.target ?? 'kit');
}
