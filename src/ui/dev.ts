// `kit dev-ui`: the Vite dev server of a package's ui/, proxying the node's endpoints to the node
// (VITE_NODE_URL), with hot reloading. Dependencies are installed first (from kit's cache of
// identical installs when it has one). `--release` runs the template's `start` script instead
// (a production build served by `vite preview`) for a package that has one.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KitError } from '../cli/errors.js';
import { ensureUiDeps } from '../build/ui-deps.js';

export class DevUiError extends KitError {
  override name = 'DevUiError';
}

export interface DevUiOptions {
  /** The package folder (holding ui/). */
  dir: string;
  /** The node to proxy to, e.g. http://localhost:8080. */
  nodeUrl: string;
  /** Run `npm start` (production build + preview) instead of `npm run dev`. */
  release?: boolean;
  /** The dev server's port; default the script's own (3000 in the template). */
  uiPort?: number;
  /** Show npm's install output. */
  verbose?: boolean;
  /** Where the dev server's output goes (default: this process's stdout). */
  output?: NodeJS.WritableStream;
}

export interface DevUiServer {
  /** Resolves with the page to open (the dev server's URL under the process's base path) once it is up. */
  ready: Promise<string>;
  child: ChildProcess;
  /** Resolves when the dev server exits. */
  exited: Promise<number | null>;
  /** Stop the dev server (and everything npm started), whether it is up yet or not. */
  stop(): Promise<void>;
}

/** Check the package has a UI; the ui/ folder's path. */
export function findUiDir(dir: string): string {
  const pkgDir = resolve(dir);
  const ui = join(pkgDir, 'ui');
  if (!existsSync(pkgDir))
    throw new DevUiError(`package directory ${pkgDir} does not exist.`, {
      hint: 'Pass the folder of a package made with `kit new <dir> --ui` as DIR, or run kit dev-ui inside it.',
    });
  if (!existsSync(join(ui, 'package.json')))
    throw new DevUiError(
      `${pkgDir} has no web UI: 'ui' directory not found or 'ui/package.json' does not exist.`,
      { hint: 'Run kit dev-ui in a package made with `kit new <dir> --ui`, or pass its folder as DIR.' },
    );
  return ui;
}

// Vite prints e.g. "  ➜  Local:   http://localhost:3000/chat:chat:template.os/"
// (a whole line: output arrives in chunks that may end mid-URL).
const LOCAL_URL = /Local:\s+(https?:\/\/\S+?)\/?[ \t]*\r?\n/;
// terminal colour escapes
const ANSI = /\x1b\[[0-9;]*m/g;

export async function startDevUi(opts: DevUiOptions): Promise<DevUiServer> {
  const ui = findUiDir(opts.dir);
  const scripts = JSON.parse(readFileSync(join(ui, 'package.json'), 'utf8')).scripts ?? {};
  const script = opts.release ? 'start' : 'dev';
  if (!scripts[script])
    throw new DevUiError(`${join(ui, 'package.json')} has no "${script}" script.`, {
      hint: opts.release ? 'Add a "start" script, or run without --release.' : 'Add "dev": "vite".',
    });
  await ensureUiDeps({ name: 'ui', dir: ui, verbose: opts.verbose === true });

  const args = ['run', script];
  if (opts.uiPort !== undefined) args.push('--', '--port', String(opts.uiPort), '--strictPort');
  // Its own process group, so stopping kills vite and not only npm.
  const child = spawn('npm', args, {
    cwd: ui,
    env: { ...process.env, VITE_NODE_URL: opts.nodeUrl, NO_COLOR: '1', FORCE_COLOR: undefined },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const out = opts.output ?? process.stdout;
  let seen = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ready = new Promise<string>((resolveUrl, reject) => {
    const onData = (d: Buffer) => {
      const text = d.toString();
      out.write(text);
      // Colours off, but strip escapes anyway: the URL is read from Vite's output.
      seen += text.replace(ANSI, '');
      const m = LOCAL_URL.exec(seen);
      if (m) resolveUrl(`${m[1]}/`);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (e) => reject(new DevUiError(`could not run npm in ${ui}: ${e.message}`, { hint: 'Install Node.js 20+ with npm.' })));
    exited.then((code) => reject(new DevUiError(`the UI dev server exited (${code}) before it was ready; its output is above.`)));
  });
  ready.catch(() => undefined);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
    await exited;
  };
  return { ready, child, exited, stop };
}
