// Build progress: on a terminal, one live line per process with its step and elapsed time,
// redrawn in place; anywhere else (CI logs, pipes), one plain line per step change.

import type { Logger } from '../core/log.js';

export interface Progress {
  /** Adds a process line (or moves it to a new step). */
  step(name: string, text: string): void;
  /** Final state of a line. */
  done(name: string, text: string, ok?: boolean): void;
  /** Stops redrawing; leaves the last frame on screen. */
  close(): void;
  /** Runs `print` (which writes whole lines) above the live lines, then redraws them. */
  above(print: () => void): void;
}

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

interface Line {
  name: string;
  text: string;
  started: number;
  final?: string;
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export function createProgress(stream: ProgressStream, tty = stream.isTTY === true): Progress {
  const lines: Line[] = [];
  const find = (name: string) => lines.find((l) => l.name === name);
  if (!tty) {
    return {
      step(name, text) {
        if (!find(name)) lines.push({ name, text, started: Date.now() });
        stream.write(`${name}: ${text}\n`);
      },
      done(name, text) {
        stream.write(`${name}: ${text}\n`);
      },
      close() {},
      above(print) {
        print();
      },
    };
  }

  let drawn = 0;
  const width = () => Math.max(20, (stream.columns || 80) - 1);
  const render = () => {
    const pad = Math.max(...lines.map((l) => l.name.length));
    let out = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const l of lines) {
      const body = l.final ?? `${l.text} ${secs(Date.now() - l.started)}`;
      out += `\x1b[2K${`${l.final ? ' ' : '…'} ${l.name.padEnd(pad)}  ${body}`.slice(0, width())}\n`;
    }
    drawn = lines.length;
    stream.write(out);
  };
  const timer = setInterval(render, 200);
  timer.unref();
  return {
    step(name, text) {
      const l = find(name);
      if (l) l.text = text;
      else lines.push({ name, text, started: Date.now() });
      render();
    },
    done(name, text, ok = true) {
      const l = find(name) ?? { name, text, started: Date.now() };
      if (!lines.includes(l)) lines.push(l);
      l.final = ok ? text : `FAILED: ${text}`;
      render();
    },
    close() {
      clearInterval(timer);
      if (lines.length > 0) render();
    },
    above(print) {
      // Erase the live lines, let the caller print, and draw them again below its output.
      if (drawn > 0) stream.write(`\x1b[${drawn}A\x1b[J`);
      drawn = 0;
      print();
      if (lines.length > 0) render();
    },
  };
}

/** A logger whose terminal lines go above the progress display instead of through it. */
export function loggerAbove(progress: Progress, logger: Logger): Logger {
  const wrap =
    (level: 'debug' | 'info' | 'warning' | 'error') =>
    (msg: string, fields?: Record<string, unknown>): void =>
      progress.above(() => logger[level](msg, fields));
  return {
    debug: wrap('debug'),
    info: wrap('info'),
    warning: wrap('warning'),
    error: wrap('error'),
    child: (target) => loggerAbove(progress, logger.child(target)),
  };
}

export { secs as formatSeconds };
